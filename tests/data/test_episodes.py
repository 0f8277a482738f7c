"""Episode data: windows and run starts, inputs kept apart from observed series, no look-ahead in
the initial conditions, observed series present, and the data's own funding-stress peaks."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from basislab.analytics.calendar import advance
from basislab.data import episodes, pointintime
from basislab.errors import DataError

D = dt.date
WINDOWS = {
    "calm-2019h1": (D(2019, 1, 2), D(2019, 6, 28)),
    "sep-2019": (D(2019, 9, 9), D(2019, 9, 30)),
    "mar-2020": (D(2020, 3, 2), D(2020, 3, 31)),
    "apr-2025": (D(2025, 4, 1), D(2025, 4, 30)),
    "late-2025": (D(2025, 10, 1), D(2025, 12, 31)),
}


@pytest.fixture(scope="module")
def loaded(con):
    return {k: episodes.load(k, con=con) for k in episodes.EPISODES}


def test_windows_and_run_starts():
    assert set(episodes.EPISODES) == set(WINDOWS)
    for key, (a, b) in WINDOWS.items():
        spec = episodes.episode(key)
        assert (spec.window_start, spec.window_end) == (a, b)
        assert spec.run_start <= advance(a, -20)  # at least 20 business days before the window
        assert spec.run_start > a - dt.timedelta(days=40)
    with pytest.raises(DataError, match="unknown episode 'nope'"):
        episodes.episode("nope")


def test_inputs_and_observed_are_disjoint():
    for spec in episodes.EPISODES.values():
        episodes.check_disjoint(spec)
        assert not set(spec.inputs) & set(spec.observed)
        assert set(spec.inputs) <= set(episodes.INPUT_DOC)
        assert set(spec.observed) <= set(episodes.OBSERVED_DOC)
        # The futures paths, funding spreads and positions the model produces are never inputs.
        for out in ("futures_front_month", "sofr_minus_iorb_bp", "lev_short_change_contracts"):
            assert out in spec.observed and out not in spec.inputs
    bad = episodes.EpisodeSpec(
        "x",
        "x",
        D(2020, 3, 2),
        D(2020, 3, 31),
        ("fed_treasury_holdings_change_usd_bn",),
        ("fed_treasury_holdings_usd_bn",),
        "",
    )
    with pytest.raises(DataError, match="both input and observed"):
        episodes.check_disjoint(bad)


def test_initial_conditions_known_at_the_run_start(loaded):
    for key, e in loaded.items():
        start = e.spec.run_start
        ic = e.initial_conditions
        assert ic["date"] == start.isoformat()
        for name, src in ic["sources"].items():
            assert D.fromisoformat(src["date"]) <= start, (key, name)
            if "known_on" in src:
                assert D.fromisoformat(src["known_on"]) <= start, (key, name)
        for c, p in ic["positions_by_contract"].items():
            assert pointintime.known_on("CFTC_TFF", D.fromisoformat(p["report_date"])) <= start, (key, c)


def test_observed_series_present_for_each_episode(loaded):
    for key, e in loaded.items():
        start, end = e.spec.run_start, e.spec.window_end
        for name, v in e.observed.items():
            assert len(v) > 0, (key, name)
        fm = e.observed["futures_front_month"]
        assert set(fm["root"]) == {"TU", "FV", "TY", "US"}, key
        assert fm["date"].min() >= pd.Timestamp(start) and fm["date"].max() <= pd.Timestamp(end)
        # Observed inside the window itself, not only in the lead-in.
        w = pd.Timestamp(e.spec.window_start)
        assert (fm["date"] >= w).any() and (e.observed["sofr_minus_iorb_bp"].index >= w).any(), key
        assert e.observed["lev_short_change_contracts"].notna().any().any(), key


def test_sep_2019_sofr_minus_ioer_peak_from_the_data(loaded):
    """The Sep 2019 peak of SOFR minus IOER in the store is +315bp on 2019-09-17, not "around
    +20bp": SOFR 5.25% (FRBNY; Anbil, Anderson & Senyuz, FEDS Notes 2020-02-27) against IOER 2.10%
    (set by the FOMC from 2019-08-01, cut to 1.80% from 2019-09-19)."""
    s = loaded["sep-2019"].observed["sofr_minus_iorb_bp"]
    assert s.idxmax() == pd.Timestamp("2019-09-17") and s.max() == pytest.approx(315.0)
    assert s[pd.Timestamp("2019-09-16")] == pytest.approx(243 - 210)  # 2.43% vs 2.10%
    assert s[pd.Timestamp("2019-09-19")] == pytest.approx(195 - 180)  # after the IOER cut
    # Before the window the spread was small: the calm baseline of the 20 days before it.
    base = s[s.index < pd.Timestamp("2019-09-09")]
    assert len(base) >= 19 and base.abs().max() < 20


def test_late_2025_peak_is_32bp(loaded):
    """SOFR 4.22% vs IORB 3.90% on 2025-10-31, the record Standing Repo Facility day (FRBNY)."""
    s = loaded["late-2025"].observed["sofr_minus_iorb_bp"]
    assert s.idxmax() == pd.Timestamp("2025-10-31") and s.max() == pytest.approx(32.0)


def test_inputs(loaded):
    sep = loaded["sep-2019"].inputs
    assert list(sep["tax_dates"]["date"]) == [D(2019, 9, 16)]
    cs = sep["coupon_settlements"]
    assert D(2019, 9, 16) in set(cs["date"]) and cs["with_amounts"].sum() == 0  # no amounts before 2025
    repo = sep["fed_repo_operations_usd_bn"]
    assert repo.index.min() == pd.Timestamp("2019-09-17") and repo.iloc[0] == pytest.approx(40.85)
    mar = loaded["mar-2020"].inputs
    assert mar["equity_move"]["change_pct"] == -12.7
    fed = mar["fed_treasury_holdings_change_usd_bn"]
    assert fed[pd.Timestamp("2020-03-25")] > 300  # H.4.1: the Fed's purchases as they happened
    par = mar["par_curve_change_bp"]
    assert set(par.columns) == {"2y", "5y", "10y", "30y"}
    # 10y par yield 0.54% on 2020-03-09 and 1.18% on 2020-03-18 (snapshot/SOURCES.md spot checks).
    assert par.loc["2020-03-10":"2020-03-18", "10y"].sum() == pytest.approx(118 - 54, abs=1e-6)
    apr = loaded["apr-2025"].inputs
    assert apr["coupon_settlements"]["accepted_usd_bn"].notna().all()  # 2025 amounts are stored
    assert apr["tga_usd_bn"].index.to_series().diff().dt.days.max() <= 4  # daily DTS
    # Reserves before 2021 come from monthly averages, each placed on its release date.
    res = mar["reserves_usd_bn"]
    assert list(res.index) == [pd.Timestamp("2020-02-28"), pd.Timestamp("2020-03-28")]
    assert res.iloc[-1] == pytest.approx(1726.9)  # February's average, released by 2020-03-28


def test_missing_data_is_said(loaded):
    late = loaded["late-2025"]
    assert any(m.startswith("par_curve_change_bp: the par curve in the store ends") for m in late.missing)
    assert any("after 2025-01-24 are not in the store" in m for m in late.missing)
    assert any("CFTC TFF row is 2025-04-29" in w for w in late.warnings)
    calm = loaded["calm-2019h1"]
    assert any(w.startswith("reserves: no weekly reserves") for w in calm.warnings)
