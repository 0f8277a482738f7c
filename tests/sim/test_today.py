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
    # CFTC leveraged-fund net shorts, week of 2024-06-25 (TY) and 2024-06-11 (others)
    assert total == pytest.approx(394.0 + 284.2 + 157.6 + 126.5, abs=0.5)
    assert sc.funds.bucket_mix["2y"] == pytest.approx(ic["basis_positions_usd_bn"]["2y"] / total)
    assert sc.market.sofr_pct == 5.33  # SOFR on 2024-06-25 (FRB New York via FRED)
    assert sc.market.iorb_pct == 5.40
    assert sc.paths == 4


def test_today_outside_the_data_is_a_clear_error(store):
    from basislab.errors import BasislabError

    with pytest.raises(BasislabError):
        load_scenario("today@1990-01-02")


def test_unknown_scenario_names_today_as_an_option():
    with pytest.raises(ScenarioError, match="today"):
        load_scenario("no-such-preset")
