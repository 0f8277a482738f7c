"""Point in time: nothing published after a date enters the values used for it."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from basislab.data import feeds, pointintime
from basislab.errors import DataError

D = dt.date


def test_release_rules():
    # SOFR of Friday 2019-09-13 is published on Monday 09-16; of 2019-12-31 on 2020-01-02.
    assert pointintime.known_on("SOFR", D(2019, 9, 13)) == D(2019, 9, 16)
    assert pointintime.known_on("SOFR", D(2019, 12, 31)) == D(2020, 1, 2)
    # H.4.1 Wednesday level, released Thursday; Thanksgiving 2019-11-28 moves it to Friday.
    assert pointintime.known_on("TREAST", D(2019, 11, 27)) == D(2019, 11, 29)
    # CFTC: Tuesday's positions on Friday.
    assert pointintime.known_on("CFTC_TFF", D(2020, 3, 17)) == D(2020, 3, 20)
    # IORB is set in advance: known on its date. The March 2020 monthly reserves average: 28 April.
    assert pointintime.known_on("IORB", D(2020, 3, 16)) == D(2020, 3, 16)
    assert pointintime.known_on("TOTRESNS", D(2020, 3, 1)) == D(2020, 4, 28)
    assert pointintime.known_on("TOTRESNS", D(2019, 12, 1)) == D(2020, 1, 28)
    with pytest.raises(DataError, match="no release rule"):
        pointintime.known_on("NOPE", D(2020, 1, 1))


def test_asof_skips_unpublished(con):
    obs = pointintime.asof(con, "SOFR", D(2019, 9, 17))
    assert obs.date == D(2019, 9, 16) and obs.value == 2.43  # the 5.25 of 09-17 is published 09-18
    assert pointintime.asof(con, "SOFR", D(2019, 9, 18)).value == 5.25
    assert pointintime.asof(con, "SOFR", D(2000, 1, 3)) is None


def _check_no_look_ahead(ic: dict, d: dt.date) -> None:
    for key, src in ic["sources"].items():
        assert dt.date.fromisoformat(src["date"]) <= d, (key, src)
        if "known_on" in src:
            assert dt.date.fromisoformat(src["known_on"]) <= d, (key, src)
        if src.get("price_date"):
            assert dt.date.fromisoformat(src["price_date"]) <= dt.date.fromisoformat(src["date"]), (key, src)
    for c, p in ic["positions_by_contract"].items():
        assert pointintime.known_on("CFTC_TFF", dt.date.fromisoformat(p["report_date"])) <= d, c


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dates(min_value=D(2018, 4, 20), max_value=D(2026, 6, 23)))
def test_property_no_value_dated_after_the_start_enters(con, d):
    """Every value in the initial conditions was observed and published on or before the date."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ic = feeds.initial_conditions(d, con=con)
        except DataError as exc:  # only for a required rate not published within its limit
            assert "SOFR" in str(exc) or "IORB" in str(exc)
            return
    assert ic["date"] == d.isoformat()
    _check_no_look_ahead(ic, d)


@pytest.mark.parametrize("d", ["2019-08-09", "2020-01-31", "2025-03-03", "2025-09-02", "2018-12-03"])
def test_episode_starts_no_look_ahead(con, d):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ic = feeds.initial_conditions(d, con=con)
    _check_no_look_ahead(ic, D.fromisoformat(d))
