"""The EBA 2018 loader: the bundled file is the shared snapshot, balance sheets built as in INET's
``Model.initialize``, and malformed files are one-line :class:`DataError`."""

from __future__ import annotations

import numpy as np
import pytest

from basislab.errors import DataError
from basislab.firesale import eba_system, load_dataset, synthetic_system
from basislab.firesale.loader import parse_eba_csv


def test_eba_2018_has_48_banks_built_as_inet_does():
    s = eba_system()
    assert len(s.names) == 48 and s.names[0] == "AT01" and s.names[-1] == "UK48"
    assert s.assets == ("corp_bonds", "gov_bonds")
    # AT01: CET1 14712, leverage 6.55%, debt securities 34241, government bonds 13 + 27682
    a = 14712 / 0.0655
    assert s.total_assets[0] == pytest.approx(a, rel=1e-12)
    assert s.holdings[0] == pytest.approx([34241 - 27695, 27695], rel=1e-12)
    assert s.cash[0] == pytest.approx(0.05 * a, rel=1e-12)
    assert s.loan[0] == pytest.approx((a - 14712) / 2, rel=1e-12)
    assert s.equity[0] == pytest.approx(14712, rel=1e-12)
    # leverage ratios come back as the file's percentages
    np.testing.assert_allclose(
        (100 * s.equity / s.total_assets)[:4], [6.55, 6.12, 5.59, 6.08], rtol=1e-12, atol=0
    )
    # DK07 holds no securities at all
    assert s.holdings[s.names.index("DK07")].sum() == 0
    # system totals (EUR mn, summed from the file with awk): 2,276,226 of debt securities, of
    # which 1,605,635 government bonds
    assert s.holdings.sum() == pytest.approx(2_276_226, abs=0.5)
    assert s.holdings[:, 1].sum() == pytest.approx(1_605_635, abs=0.5)


def test_load_dataset_refuses_unknown_names():
    assert load_dataset("eba-2018").names == eba_system().names
    with pytest.raises(DataError, match="unknown fire-sale dataset 'eba-2019'; expected one of: eba-2018"):
        load_dataset("eba-2019")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no 'bank_id"),
        ("bank_id,CET1E,leverage,debt_sec,govbonds\n", "no banks"),
        ("bank_id,CET1E,leverage,debt_sec,govbonds\nX 1 2 3\n", "line 2: expected 5"),
        ("bank_id,CET1E,leverage,debt_sec,govbonds\nX 1 abc 3 1\n", "leverage 'abc' is not a number"),
        ("bank_id,CET1E,leverage,debt_sec,govbonds\nX 1 0 3 1\n", "percentage in"),
        ("bank_id,CET1E,leverage,debt_sec,govbonds\nX 1 5 3 2+2\n", "exceed debt securities"),
        ("bank_id,CET1E,leverage,debt_sec,govbonds\nX 1 5 -3 1\n", "non-negative"),
        ("bank_id,CET1E,leverage,debt_sec,govbonds\nX 1 5 19.5 1\n", "exceed 95% of total assets"),
    ],
)
def test_malformed_files_are_one_line_errors(text, message):
    with pytest.raises(DataError, match=message) as exc:
        eba_system(text)
    assert "\n" not in str(exc.value)


def test_parse_sums_the_two_government_bond_lines():
    rows = parse_eba_csv("bank_id,CET1E,leverage,debt_sec,govbonds\nZZ 10 5 100 1.5+2.5\n")
    assert rows == [("ZZ", 10.0, 5.0, 100.0, 4.0)]


def test_synthetic_system_is_seeded_and_consistent():
    a, b = synthetic_system(50, 7, seed=3), synthetic_system(50, 7, seed=3)
    np.testing.assert_array_equal(a.holdings, b.holdings)
    assert a.holdings.shape == (50, 7) and np.all(a.holdings.sum(1) > 0)
    lev = a.equity / a.total_assets
    assert np.all((lev >= 0.035 - 1e-12) & (lev <= 0.08 + 1e-12))
    assert np.all(a.other_asset > 0)
