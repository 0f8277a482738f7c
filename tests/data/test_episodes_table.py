"""One table of episodes (basislab.data.catalog.EPISODE_TABLE): the chart markers and the replay
windows are both derived from it, so they cannot disagree."""

from __future__ import annotations

from basislab.data import catalog, episodes


def test_markers_and_replays_come_from_one_table():
    table = {e.key: e for e in catalog.EPISODE_TABLE}
    assert list(episodes.EPISODES) == list(table)
    for key, spec in episodes.EPISODES.items():
        row = table[key]
        assert (spec.window_start, spec.window_end, spec.label) == (
            row.window_start,
            row.window_end,
            row.label,
        )
    assert catalog.EPISODES == tuple(e for e in catalog.EPISODE_TABLE if e.marked)
    assert {e.key for e in catalog.EPISODES} == {"sep-2019", "mar-2020", "apr-2025", "late-2025"}
    for e in catalog.EPISODES:  # each marked stress lies inside its replay window
        assert e.window_start <= e.start <= e.end <= e.window_end, e.key
