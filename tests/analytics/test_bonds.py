"""Bond math: the vectorised path against QuantLib on every note and bond of the bundled list,
schedules with the end-of-month rule, dated dates, street vs Treasury auction yields."""

from datetime import date

import numpy as np
import pytest

from basislab.analytics import bonds as bm
from basislab.analytics import notes_and_bonds, settlement_date

SETTLE = date(2024, 6, 27)


@pytest.fixture(scope="module")
def book():
    nb = notes_and_bonds()
    nb = nb[nb["maturity"] > SETTLE].reset_index(drop=True)
    cpn, mat = nb["coupon_pct"].to_numpy(), bm.as_days(nb["maturity"].to_numpy())
    dated = bm.dated_date(bm.as_days(nb["issue_date"].to_numpy()), mat)
    price = nb["clean_price"].to_numpy()
    return nb, cpn, mat, dated, price


@pytest.mark.parametrize("convention", ["street", "treasury"])
def test_vectorised_matches_quantlib(book, convention):
    nb, cpn, mat, dated, price = book
    ai = bm.accrued(cpn, mat, SETTLE, dated)
    y = bm.yield_from_clean(cpn, mat, SETTLE, price, dated, convention)
    dv = bm.dv01(cpn, mat, SETTLE, y, dated, convention)
    back = bm.clean_from_yield(cpn, mat, SETTLE, y, dated, convention)
    for i in range(len(nb)):
        bond = bm.ql_bond(cpn[i], nb["maturity"][i], dated[i].astype(object))
        assert ai[i] == pytest.approx(bm.ql_accrued(bond, SETTLE), abs=1e-12)
        assert y[i] == pytest.approx(bm.ql_yield(bond, price[i], SETTLE, convention), abs=1e-9)
        assert dv[i] == pytest.approx(bm.ql_dv01(bond, y[i], SETTLE, convention), abs=1e-6)
        assert back[i] == pytest.approx(bm.ql_clean_price(bond, y[i], SETTLE, convention), abs=1e-9)
    np.testing.assert_allclose(back, price, atol=1e-9)


def test_street_and_treasury_yields_differ_only_by_the_fractional_period(book):
    _, cpn, mat, dated, price = book
    street = bm.yield_from_clean(cpn, mat, SETTLE, price, dated, "street")
    treasury = bm.yield_from_clean(cpn, mat, SETTLE, price, dated, "treasury")
    _, nxt, k = bm.coupon_period(mat, SETTLE)
    final = k == 0  # simple interest in the final period under both conventions
    np.testing.assert_allclose(street[final], treasury[final], atol=1e-10)
    gap = np.abs(street - treasury)
    # Compounding vs simple interest over a fraction of a half-year: a gap below 1.25bp that
    # shrinks with the number of coupons left (under 0.05bp for bonds of 20 years or more).
    assert np.all(gap[~final] > 1e-5)
    assert gap.max() < 0.0125 and gap[k >= 40].max() < 5e-4


def test_end_of_month_schedule():
    # A note maturing 6/30 pays on 12/31 (shared/reference/futures-analytics.md); a note
    # maturing 2/29 pays on 8/31 (31 CFR 356 App. B: "February 29 to August 31").
    prev, nxt, _ = bm.coupon_period([date(2026, 6, 30)], [date(2024, 8, 1)])
    assert (str(prev[0]), str(nxt[0])) == ("2024-06-30", "2024-12-31")
    prev, nxt, _ = bm.coupon_period([date(2028, 2, 29)], [date(2024, 3, 15)])
    assert (str(prev[0]), str(nxt[0])) == ("2024-02-29", "2024-08-31")
    prev, nxt, k = bm.coupon_period([date(2031, 5, 15)], [date(2024, 5, 15)])
    assert (str(prev[0]), str(nxt[0]), int(k[0])) == ("2024-05-15", "2024-11-15", 13)


def test_dated_date_rolls_back_weekend_issuance():
    # 912828G38 was issued Monday 2014-11-17 for 11/15 (a Saturday): accrues from 11/15.
    # The 20-year bond issued 2023-11-30 for 11/15/2043 (912810TW8) accrues from 11/15.
    got = bm.dated_date(
        [date(2014, 11, 17), date(2023, 11, 30), date(2024, 5, 15)],
        [date(2024, 11, 15), date(2043, 11, 15), date(2034, 5, 15)],
    )
    assert [str(d) for d in got] == ["2014-11-15", "2023-11-15", "2024-05-15"]


def test_accrued_half_coupon_fraction():
    # 4-1/4% of 8/15/2026 on 2024-06-27: 133 of 182 days of the 2/15-8/15 period (2024 leap).
    ai = bm.accrued([4.25], [date(2026, 8, 15)], date(2024, 6, 27))
    assert ai[0] == pytest.approx(2.125 * 133 / 182, abs=1e-14)


def test_coupons_between_dates():
    # A May/November note over a year: two coupons; a coupon on the end date is inside.
    amounts, when = bm.coupons_between([4.0], [date(2031, 5, 15)], date(2024, 6, 27), date(2025, 5, 15))
    paid = when[0][~np.isnat(when[0])]
    assert [str(d) for d in paid] == ["2024-11-15", "2025-05-15"]
    assert amounts[0].sum() == pytest.approx(4.0)
    # A short first coupon: dated 2024-05-26 for a 5/15-8/15... schedule, the first coupon
    # pays for 173 of the 184 days of the regular period.
    amounts, _ = bm.coupons_between(
        [4.0], [date(2034, 11, 15)], date(2024, 6, 27), date(2024, 12, 31), dated=[date(2024, 5, 26)]
    )
    assert amounts[0].sum() == pytest.approx(2.0 * 173 / 184)


def test_settlement_t_plus_one_on_government_calendar():
    assert settlement_date(date(2024, 6, 26)) == date(2024, 6, 27)
    assert settlement_date(date(2024, 7, 3)) == date(2024, 7, 5)  # July 4 holiday
    assert settlement_date(date(2024, 6, 28)) == date(2024, 7, 1)  # weekend
    assert settlement_date(date(2024, 10, 11)) == date(2024, 10, 15)  # Columbus Day (SIFMA)


def test_non_positive_price_is_rejected():
    from basislab.errors import BondError

    with pytest.raises(BondError, match="positive"):
        bm.yield_from_clean([4.0], [date(2030, 1, 15)], SETTLE, [0.0])
