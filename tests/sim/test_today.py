"""``today`` scenarios: the seed-thesis book sized and priced from the data store (issue 4, item 5)."""

import pytest

from basislab.errors import ScenarioError
from basislab.sim import load_scenario


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("BASISLAB_DB", str(tmp_path / "basislab.duckdb"))


def test_today_at_a_tff_week_uses_the_data(store):
    from basislab.data.feeds import initial_conditions

    ic = initial_conditions("2024-06-25")
    sc = load_scenario("today@2024-06-25", ["paths=4"])
    total = sum(ic["basis_positions_usd_bn"].values())
    assert sc.funds.total_position_usd_bn == pytest.approx(total)
    # point in time: the TFF report of Tuesday 2024-06-25 is released on Friday 06-28, so a book
    # built on 06-25 uses the week of 2024-06-18 (released 06-21) for every contract
    pos = ic["positions_by_contract"]
    assert {c["report_date"] for c in pos.values()} == {"2024-06-18"}
    # CFTC TFF futures-only, week of 2024-06-18, 2-year note (TU, $200k face): leveraged funds
    # short 2,435,546 and long 336,968 contracts; at the TUU24 close of 102.282 that is
    # 2,098,578 x 0.0002 bn x 1.02282 = USD 429.29bn of net shorts (the 2y bucket)
    assert pos["TU"]["lev_short"] == 2_435_546 and pos["TU"]["lev_long"] == 336_968
    assert ic["basis_positions_usd_bn"]["2y"] == pytest.approx(2_098_578 * 0.0002 * 1.02282058, rel=1e-6)
    assert total == pytest.approx(429.3 + 277.3 + 158.3 + 131.9, abs=0.5)
    assert sc.funds.bucket_mix["2y"] == pytest.approx(ic["basis_positions_usd_bn"]["2y"] / total)
    # SOFR known on 2024-06-25 is the 06-24 fixing, 5.31% (FRB New York via FRED); IORB 5.40%
    assert sc.market.sofr_pct == 5.31
    assert sc.market.iorb_pct == 5.40
    assert sc.paths == 4
    assert ic["warnings"] == []


def test_today_outside_the_data_is_a_clear_error(store):
    from basislab.errors import BasislabError

    with pytest.raises(BasislabError):
        load_scenario("today@1990-01-02")


def test_unknown_scenario_names_today_as_an_option():
    with pytest.raises(ScenarioError, match="today"):
        load_scenario("no-such-preset")
