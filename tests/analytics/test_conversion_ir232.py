"""Conversion factors against CME's worked examples.

Source: CME Group, "Calculating U.S. Treasury Futures Conversion Factors" (IR232), examples 1-5,
as transcribed in shared/reference/futures-analytics.md.
"""

from datetime import date

import pytest

from basislab.analytics import conversion_factor


@pytest.mark.parametrize(
    "root, coupon, maturity, month, expected",
    [
        ("TU", 1.5, date(2010, 10, 31), "2008-12", 0.9229),  # IR232 ex.1, 912828JP6
        ("Z3N", 1.125, date(2012, 1, 15), "2009-03", 0.8747),  # IR232 ex.2, 912828KB5
        ("FV", 2.75, date(2013, 10, 31), "2008-12", 0.8653),  # IR232 ex.3, 912828JQ4
        ("TY", 3.75, date(2018, 11, 15), "2008-12", 0.8357),  # IR232 ex.4, 912828JR2
        ("US", 4.5, date(2038, 5, 15), "2008-12", 0.7943),  # IR232 ex.5, 912810PX0
    ],
)
def test_cme_ir232_examples(root, coupon, maturity, month, expected):
    assert conversion_factor(root, coupon, maturity, month) == expected
