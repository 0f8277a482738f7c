"""The shared chart module: gaps break lines, labels never overlap, empty charts say so."""

import datetime as dt

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from basislab.data.catalog import EPISODES
from basislab.report import charts


def test_gap_of_missing_years_breaks_the_line(weekly_with_gap):
    g = charts.with_gaps(weekly_with_gap)
    holes = g[g.isna()]
    # exactly one break, inside the 2017-2019 hole; every observation kept, none interpolated
    assert len(holes) == 1
    assert pd.Timestamp("2016-12-27") < holes.index[0] < pd.Timestamp("2020-01-07")
    assert g.dropna().equals(weekly_with_gap.astype(float))


def test_regular_series_is_not_broken():
    weekly = pd.Series(1.0, index=pd.date_range("2020-01-07", periods=60, freq="W-TUE"))
    assert charts.gap_count(weekly) == 0
    # business days: weekends and a holiday Monday are not gaps
    daily = pd.Series(1.0, index=pd.bdate_range("2024-01-02", "2024-03-29").delete(10))
    assert charts.gap_count(daily) == 0
    # two missing business weeks are
    assert (
        charts.gap_count(
            pd.Series(1.0, index=pd.bdate_range("2024-01-02", "2024-03-29").delete(range(10, 20)))
        )
        == 1
    )


def test_time_chart_draws_a_none_in_the_gap(weekly_with_gap):
    fig = charts.time_chart("t", {"a": weekly_with_gap}, "USD bn")
    y = fig.data[0].y
    assert sum(v is None for v in y) == 1 and fig.data[0].connectgaps is False
    assert fig.layout.yaxis.title.text == "USD bn"


def _label_boxes(fig, chars_px=6.0, width_px=1000):
    """(left, right, level) of each episode label in pixels of a ``width_px`` plot."""
    x0 = pd.Timestamp(fig.layout.xaxis.range[0]) if fig.layout.xaxis.range else None
    anns = [a for a in fig.layout.annotations if a.yref == "paper" and a.y >= 1.0]
    xs = [pd.Timestamp(a.x) for a in anns]
    lo, hi = (x0 or min(xs)), max(xs)
    return anns, lo, hi


def test_episode_labels_never_overlap():
    # 2015..2025: Sep 2019 and Mar 2020 (6 months apart), Apr 2025 and Oct 2025 (6 months apart)
    s = pd.Series(1.0, index=pd.date_range("2015-01-06", "2025-11-25", freq="W-TUE"))
    fig = charts.time_chart("t", {"a": s}, "bp", episodes=EPISODES)
    anns = {a.text: a for a in fig.layout.annotations if a.yref == "paper"}
    assert set(anns) == {e.label for e in EPISODES}
    span = (s.index[-1] - s.index[0]).days
    # a label is about 130 px wide in a 1000 px plot: labels on one row must be further apart
    for a in anns.values():
        for b in anns.values():
            if a is b or a.y != b.y:
                continue
            gap = abs((pd.Timestamp(a.x) - pd.Timestamp(b.x)).days) / span
            assert gap >= 0.14, (a.text, b.text)
    assert anns["Sep 2019 repo spike"].y != anns["Mar 2020 dash for cash"].y
    assert anns["Apr 2025 tariff sell-off"].y != anns["Oct 2025 repo pressure"].y
    # each episode is shaded
    assert len([sh for sh in fig.layout.shapes if sh.fillcolor == "#d62728"]) == len(EPISODES)


def test_only_episodes_in_range_are_marked():
    s = pd.Series(1.0, index=pd.date_range("2019-01-01", "2019-12-31", freq="D"))
    fig = charts.time_chart("t", {"a": s}, "bp", episodes=EPISODES)
    assert [a.text for a in fig.layout.annotations] == ["Sep 2019 repo spike"]


def test_empty_chart_says_so():
    fig = charts.time_chart("Repo spreads", {"SOFR - IORB": pd.Series(dtype=float), "b": None}, "bp")
    assert charts.is_empty(fig) and not fig.data
    assert "No observations" in fig.layout.annotations[0].text


def test_all_zero_sim_chart_is_replaced_by_a_message(stored):
    from tests.report.conftest import synthetic_timeseries

    ts = synthetic_timeseries(zero=("ccp_losses", "lender_losses", "sold_unwind", "sold_default"))
    figs = charts.sim_figures(type(stored)("r", stored.metrics, stored.scenario, ts, stored.audit))
    for key in ("ccp_losses", "losses", "forced_sales"):
        assert charts.is_empty(figs[key]), key
        assert (
            "nothing" in figs[key].layout.annotations[0].text.lower()
            or "no " in figs[key].layout.annotations[0].text.lower()
        )
    assert not charts.is_empty(figs["prices"])


def test_every_bucket_has_its_panel_and_basis_uses_desk_sign(stored):
    figs = charts.sim_figures(stored)
    titles = [a.text for a in figs["basis"].layout.annotations]
    assert all(f"{b} bucket" in titles for b in ("2y", "5y", "10y", "long"))
    # synthetic gross basis P - CF f = 0.25 points at the start = +8/32 (desk sign: positive, 32nds)
    first = [tr for tr in figs["basis"].data if tr.fill is None][0]
    assert first.y[0] == np.float64(0.25 * (1 - 1 / 20) * 32)
    assert figs["basis"].layout.yaxis.title.text == "32nds"
    # at most two lines (the two worlds) per panel
    for key in ("prices", "basis", "haircut", "refusal", "losses"):
        lines = [tr for tr in figs[key].data if tr.fill is None]
        per_axis = pd.Series([tr.xaxis or "x" for tr in lines]).value_counts()
        assert per_axis.max() <= 2, key


def test_units_on_every_axis_and_shock_shaded(stored):
    for key, fig in charts.sim_figures(stored).items():
        if charts.is_empty(fig) or key == "who_to_whom":
            continue
        ytitles = [ax.title.text for name, ax in fig.layout.to_plotly_json().items() if False] or [
            fig.layout[k].title.text for k in fig.layout if k.startswith("yaxis") and fig.layout[k].title.text
        ]
        assert ytitles, key
        assert not any("haircut" in t and "USD" in t for t in ytitles), key
        shaded = [sh for sh in fig.layout.shapes if sh.fillcolor == "#7f7f7f"]
        assert shaded and shaded[0].x0 == 5.5 and shaded[0].x1 == 12.5, key


def test_who_sold_to_whom_table(stored):
    tbl = charts.flows_table(stored.timeseries, list(stored.metrics))
    row = tbl[tbl["what"] == "cash Treasuries"].iloc[0]
    # synthetic: 4 buckets x sum_{t=1..20} (1 + 0.1 t) = 4 x 41 = 164 without backstop
    assert row["from"] == "funds (unwinding)" and row["to"] == "end investors"
    assert row["without backstop"] == np.float64(4 * sum(1 + 0.1 * t for t in range(1, 21)))


def test_label_levels_stagger_close_episodes():
    eps = [type("E", (), {"start": dt.date(2019, 9, 16)})(), type("E", (), {"start": dt.date(2020, 3, 9)})()]
    assert charts._episode_levels(eps, span_days=3650) == [0, 1]
    assert charts._episode_levels(eps, span_days=365 * 2) == [0, 0]


def test_analytics_charts_have_units():
    stress = pd.DataFrame(
        {
            "move": ["yields +25bp"],
            "repo_margin_call": [1e6],
            "haircut_call": [0.0],
            "im_call": [2e5],
            "vm": [-9e5],
        }
    )
    fig = charts.stress_chart(stress)
    assert fig.layout.yaxis.title.text == "USD m" and fig.data[0].y[0] == 1.0
    assert isinstance(charts.implied_repo_spread(pd.DataFrame(), 5.0), go.Figure)
