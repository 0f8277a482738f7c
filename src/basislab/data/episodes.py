"""Episode data for replays and validation: point-in-time initial conditions, INPUT series (news
and policy as they happened) and OBSERVED series (what the model must reproduce, never inputs).

Each episode has a window and a run start ``RUN_LEAD_BUSINESS_DAYS`` (20) US government-bond
business days before it, so that a 20-day baseline precedes the window. :func:`load` returns:

- ``initial_conditions``: :func:`basislab.data.feeds.initial_conditions` at the run start, known at
  the end of that day (point in time; its ``warnings`` say every fallback);
- ``inputs``: exogenous paths from the run start to the window end. News: daily changes of the
  Treasury par curve (2y, 5y, 10y, 30y, bp) and, where given, equity moves; the Fed's actions as
  they happened (weekly change of its Treasury holdings, H.4.1; its repo operations, NY Fed; the
  administered rates IORB/IOER and ON RRP); funding-market flows: reserves, the TGA, ON RRP
  take-up, tax dates and Treasury coupon settlements (issue dates and amounts of notes and bonds
  from the auctions tables). :mod:`basislab.sim.episode_inputs` turns them into the engine's
  per-day arrays;
- ``observed``: series for validation: front-month futures closes (TU, FV, TY, US; raw and
  back-adjusted, with roll flags), SOFR minus IORB (IOER before 2021-07-29) in bp, the week-to-week
  change of leveraged funds' futures shorts per contract and, where not an input, the Fed's
  Treasury holdings (ON RRP take-up is an input: money funds' moves drive the funding market);
- ``missing``: what the episode would use but the store lacks, in words (never silently dropped).

Inputs and outputs are disjoint by construction (:func:`check_disjoint`). The par-curve changes are
the **whole** observed change: they include whatever price impact forced sales had. The store has
no OIS or swap curve to separate the fundamental part; the simulator's preset states the share it
takes as news (an assumption with a sensitivity row), and the futures paths, which carry the same
impact, stay outputs.

Input paths use values as of their dates, except the monthly reserves average (before weekly
reserves exist in the store, 2021-06), which is placed on its release date (see
:mod:`basislab.data.pointintime`) so that no input carries a value before it was known.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from basislab.data import feeds, pointintime
from basislab.errors import DataError

RUN_LEAD_BUSINESS_DAYS = 20
PAR_TENORS = {"2y": "2Y", "5y": "5Y", "10y": "10Y", "30y": "30Y"}
FRONT_ROOTS = ("TU", "FV", "TY", "US")

#: Input names, documented: what each is and where it comes from.
INPUT_DOC = {
    "par_curve_change_bp": "daily change of the Treasury par yields 2y/5y/10y/30y, bp (US Treasury)",
    "equity_move": "equity index move over a stated span (a constant; no equity series is shipped)",
    "credit_move": "IG credit spread change over a stated span, bp (a constant; no credit series is shipped)",
    "fed_treasury_holdings_change_usd_bn": "weekly change of Fed Treasury holdings (H.4.1 TREAST), USD bn",
    "fed_repo_operations_usd_bn": "Fed repo operations accepted, Treasury collateral (RPONTSYD), USD bn",
    "reserves_usd_bn": "reserve balances: weekly WRESBAL, else monthly TOTRESNS on its release date, USD bn",
    "tga_usd_bn": "Treasury General Account: DTS daily close, else H.4.1 weekly level, USD bn",
    "tax_dates": "federal tax dates (corporate and individual estimated taxes, April returns)",
    "coupon_settlements": "notes and bonds settling (issue date): count and USD bn where amounts are stored",
    "administered_rates": "IORB (IOER before 2021-07-29) and the ON RRP rate in force, % (FRB, FRBNY)",
    "onrrp_takeup_usd_bn": "ON RRP take-up (RRPONTSYD), USD bn: its daily change is money funds' move into "
    "or out of the facility, an input of the funding market (basislab.sim.episode_inputs)",
}
#: Observed (validation) names, documented.
OBSERVED_DOC = {
    "futures_front_month": "Yahoo front-month closes TU/FV/TY/US: close, close_adj, contract, roll, in_delivery",
    "sofr_minus_iorb_bp": "SOFR minus IORB (IOER before 2021-07-29), bp; FRBNY SOFR, FRB IORB/IOER",
    "lev_short_change_contracts": "week-to-week change of leveraged funds' futures shorts per contract",
    "fed_treasury_holdings_usd_bn": "Fed Treasury holdings (H.4.1 TREAST, Wednesday level), USD bn",
}


@dataclass(frozen=True)
class EpisodeSpec:
    """An episode: window, inputs, observed outputs and constants, with the reasons."""

    key: str
    label: str
    window_start: dt.date
    window_end: dt.date
    inputs: tuple[str, ...]
    observed: tuple[str, ...]
    note: str
    constants: dict = field(default_factory=dict)

    @property
    def run_start(self) -> dt.date:
        """``RUN_LEAD_BUSINESS_DAYS`` government-bond business days before the window."""
        from basislab.analytics.calendar import advance

        return advance(self.window_start, -RUN_LEAD_BUSINESS_DAYS)


_FUNDING = (
    "administered_rates",
    "reserves_usd_bn",
    "tga_usd_bn",
    "onrrp_takeup_usd_bn",
    "tax_dates",
    "coupon_settlements",
)
_OBS = ("futures_front_month", "sofr_minus_iorb_bp", "lev_short_change_contracts")

#: Per replay: (inputs, observed, note, constants). Keys, labels and windows come from the one
#: episode table, :data:`basislab.data.catalog.EPISODE_TABLE`.
_REPLAYS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str, dict]] = {
    "calm-2019h1": (
        ("par_curve_change_bp", *_FUNDING),
        (*_OBS, "fed_treasury_holdings_usd_bn"),
        "A calm market: the model must not produce a crisis. The Fed ran its holdings off (a passive, "
        "pre-announced cap): observed, not an input, so a model Fed that buys would show.",
        {},
    ),
    "sep-2019": (
        ("par_curve_change_bp", "fed_repo_operations_usd_bn", *_FUNDING),
        (*_OBS, "fed_treasury_holdings_usd_bn"),
        "The corporate tax date and a coupon settlement on 2019-09-16 drain reserves; SOFR 5.25% on "
        "2019-09-17 (FRBNY; Anbil, Anderson & Senyuz 2020) vs IOER 2.10%: +315bp. The Fed's repo "
        "operations from 2019-09-17 are an input; its Treasury holdings (no outright purchases until "
        "2019-10-15) are observed.",
        {},
    ),
    "mar-2020": (
        (
            "par_curve_change_bp",
            "equity_move",
            "credit_move",
            "fed_treasury_holdings_change_usd_bn",
            "fed_repo_operations_usd_bn",
            *_FUNDING,
        ),
        _OBS,
        "Foreign and fund selling of Treasuries; the Fed bought about USD 775bn of Treasuries 15-31 March "
        "(Fleming & Ruela 2020; its weekly holdings change is an input, as happened). Equity: S&P 500 "
        "-12.7% from the 9 March to the 18 March close (2,746.56 to 2,398.10), a documented constant "
        "(no equity series shipped). Credit: the ICE BofA IG spread went from 101bp (start of 2020) to "
        "303bp on 18 March (ig_hy_spreads_mar2020); the +202bp is placed from the S&P 500's peak (19 "
        "February, spx_path_2020) to 18 March, a timing assumption (no credit series shipped).",
        {
            "equity_move": {
                "index": "S&P 500",
                "from": "2020-03-09",
                "to": "2020-03-18",
                "change_pct": -12.7,
            },
            "credit_move": {
                "index": "ICE BofA US IG",
                "from": "2020-02-19",
                "to": "2020-03-18",
                "change_bp": 202.0,
            },
        },
    ),
    "apr-2025": (
        ("par_curve_change_bp", *_FUNDING),
        _OBS,
        "10y and 30y yields up about 50bp in the week after 2 April. The Fed did not act; its balance "
        "sheet after 2025-01-24 is not in the store (listed as missing).",
        {},
    ),
    "late-2025": (
        ("par_curve_change_bp", *_FUNDING),
        _OBS,
        "Reserves falling toward scarcity; SOFR 32bp over IORB on 2025-10-31 (4.22% vs 3.90%) with record "
        "Standing Repo Facility use (a model output: the SRF is the model's). The par curve ends "
        "2025-07-11 in the store and CFTC positions other than TY are missing May-Dec 2025 (listed as "
        "missing).",
        {},
    ),
}


def _specs() -> dict[str, EpisodeSpec]:
    from basislab.data.catalog import EPISODE_TABLE

    out = {}
    for e in EPISODE_TABLE:
        inputs, observed, note, constants = _REPLAYS[e.key]
        out[e.key] = EpisodeSpec(
            e.key, e.label, e.window_start, e.window_end, inputs, observed, note, constants
        )
    return out


#: The replays, derived from :data:`basislab.data.catalog.EPISODE_TABLE` (windows, labels).
EPISODES: dict[str, EpisodeSpec] = _specs()


@dataclass
class EpisodeData:
    """Everything a replay and its validation need, with what is missing in words."""

    spec: EpisodeSpec
    initial_conditions: dict
    inputs: dict
    observed: dict
    missing: list[str]

    @property
    def warnings(self) -> list[str]:
        return list(self.initial_conditions.get("warnings", [])) + self.missing


def episode(key: str) -> EpisodeSpec:
    """The episode ``key``; an unknown key is a :class:`DataError` listing the known ones."""
    if key not in EPISODES:
        raise DataError(f"unknown episode {key!r}; known: {', '.join(EPISODES)}")
    return EPISODES[key]


def check_disjoint(spec: EpisodeSpec) -> None:
    """An observed (output) series is never an input: their names and sources must not overlap."""
    both = set(spec.inputs) & set(spec.observed)
    # The Fed's holdings: the change as an input and the level as an output would feed one back.
    if (
        "fed_treasury_holdings_change_usd_bn" in spec.inputs
        and "fed_treasury_holdings_usd_bn" in spec.observed
    ):
        both.add("fed_treasury_holdings")
    if both:
        raise DataError(f"episode {spec.key}: series both input and observed: {sorted(both)}")


def _span(df: pd.DataFrame | pd.Series, start: dt.date, end: dt.date):
    return df.loc[pd.Timestamp(start) : pd.Timestamp(end)]


def _series(con: duckdb.DuckDBPyConnection, key: str) -> pd.Series:
    return feeds.series_frame(con, key)


def tax_dates(start: dt.date, end: dt.date) -> pd.DataFrame:
    """Federal tax dates between ``start`` and ``end``: individual estimated taxes (Jan, Apr, Jun,
    Sep 15), corporate estimated taxes (Apr, Jun, Sep, Dec 15), individual returns (Apr 15); a date
    on a weekend or holiday moves to the next business day (IRC 7503). 2020: the April and June
    dates were postponed to 2020-07-15 (IRS Notice 2020-23)."""
    from basislab.analytics.calendar import advance, is_business_day

    rows = []
    for year in range(start.year, end.year + 1):
        for month, what in (
            (1, "individual estimated tax"),
            (4, "individual returns; individual and corporate estimated tax"),
            (6, "individual and corporate estimated tax"),
            (9, "individual and corporate estimated tax"),
            (12, "corporate estimated tax"),
        ):
            if year == 2020 and month in (4, 6):
                continue
            d = dt.date(year, month, 15)
            d = d if is_business_day(d) else advance(d, 1)
            rows.append((d, what))
        if year == 2020:
            rows.append((dt.date(2020, 7, 15), "returns and estimated taxes postponed from April and June"))
    df = pd.DataFrame(rows, columns=["date", "what"])
    return df[(df.date >= start) & (df.date <= end)].sort_values("date").reset_index(drop=True)


def coupon_settlements(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Notes and bonds (TIPS and FRNs included) settling on each issue date: count, and USD bn
    offered, accepted and taken by the Fed (SOMA) where the auctions table has amounts (the
    2025-26 securities-search file); NaN where it has none."""
    df = con.execute(
        "SELECT issue_date AS date, count(*) AS securities, sum(offering_usd_bn) AS offering_usd_bn, "
        "sum(accepted_usd_bn) AS accepted_usd_bn, sum(soma_accepted_usd_bn) AS soma_accepted_usd_bn, "
        "count(offering_usd_bn) AS with_amounts FROM auctions "
        "WHERE issue_date BETWEEN ? AND ? AND security_type NOT IN ('Bill', 'CMB') GROUP BY 1 ORDER BY 1",
        [start, end],
    ).df()
    df["date"] = pd.to_datetime(df["date"]).dt.date
    return df


def _par_changes(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> pd.DataFrame:
    df = con.execute(
        "SELECT date, tenor, yield_pct FROM par_yield_curve WHERE tenor IN ('2Y', '5Y', '10Y', '30Y') "
        "AND date BETWEEN ? AND ?",
        [start - dt.timedelta(days=10), end],
    ).df()
    if df.empty:
        return pd.DataFrame(columns=list(PAR_TENORS))
    wide = df.pivot(index="date", columns="tenor", values="yield_pct").sort_index()
    wide.index = pd.to_datetime(wide.index)
    wide = wide.rename(columns={v: k for k, v in PAR_TENORS.items()})[list(PAR_TENORS)]
    return _span(wide.diff() * 100.0, start, end).dropna(how="all")


def _reserves_path(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> pd.Series:
    weekly = _span(_series(con, "WRESBAL"), start, end)
    monthly = _series(con, "TOTRESNS")
    monthly.index = pd.to_datetime([pointintime.known_on("TOTRESNS", d.date()) for d in monthly.index])
    monthly = _span(monthly, start, end)
    if len(weekly) and len(monthly):
        monthly = monthly[monthly.index < weekly.index[0]]
    return pd.concat([monthly, weekly]).sort_index().rename("reserves_usd_bn")


def _tga_path(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> pd.Series:
    daily = _span(_series(con, "TGA_DTS"), start, end)
    weekly = _span(_series(con, "WTREGEN"), start, end)
    if len(daily):
        weekly = weekly[weekly.index < daily.index[0]]
    return pd.concat([weekly, daily]).sort_index().rename("tga_usd_bn")


def _front(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> pd.DataFrame:
    df = con.execute(
        "SELECT date, root, contract, close, close_adj, roll, in_delivery, volume FROM futures_front_month "
        "WHERE date BETWEEN ? AND ? ORDER BY root, date",
        [start, end],
    ).df()
    df["date"] = pd.to_datetime(df["date"])
    return df


def sofr_minus_iorb_bp(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> pd.Series:
    """SOFR minus IORB (IOER before 2021-07-29: the store's IORB series carries IOER then), bp, on
    days with a SOFR print."""
    sofr = _span(_series(con, "SOFR"), start, end)
    iorb = _series(con, "IORB").reindex(sofr.index, method="ffill")
    return ((sofr - iorb) * 100.0).round(6).dropna().rename("sofr_minus_iorb_bp")


def _lev_short_change(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> pd.DataFrame:
    df = con.execute(
        "SELECT report_date, contract, lev_short FROM cftc_tff WHERE report_date BETWEEN ? AND ?",
        [start - dt.timedelta(days=8), end],
    ).df()
    wide = df.pivot(index="report_date", columns="contract", values="lev_short").sort_index()
    wide.index = pd.to_datetime(wide.index)
    gap = wide.index.to_series().diff().dt.days
    change = wide.diff()
    change[gap > 8] = float("nan")  # a change across a missing week is not a weekly change
    return _span(change, start, end).dropna(how="all")


def load(key: str, con: duckdb.DuckDBPyConnection | None = None, db: str | Path | None = None) -> EpisodeData:
    """The episode's initial conditions, inputs and observed series from the store (see module doc)."""
    from basislab.data.store import connect

    spec = episode(key)
    check_disjoint(spec)
    own = con is None
    con = connect(db, read_only=True) if con is None else con
    try:
        start, end = spec.run_start, spec.window_end
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the same texts are in initial_conditions["warnings"]
            ic = feeds.initial_conditions(start, con=con)
        missing: list[str] = []
        inputs: dict = {}
        for name in spec.inputs:
            if name == "par_curve_change_bp":
                v = _par_changes(con, start, end)
                last = v.index.max().date() if len(v) else None
                if last is None or last < end - dt.timedelta(days=7):
                    missing.append(
                        f"par_curve_change_bp: the par curve in the store ends {last or 'before ' + str(start)} "
                        f"(window ends {end}); run `basislab data refresh --source treasury-curve`"
                    )
            elif name in ("equity_move", "credit_move"):
                v = spec.constants[name]
            elif name == "fed_treasury_holdings_change_usd_bn":
                v = _span(_series(con, "TREAST").diff(), start, end).dropna()
            elif name == "fed_repo_operations_usd_bn":
                v = _span(_series(con, "RPONTSYD"), start, end)
            elif name == "reserves_usd_bn":
                v = _reserves_path(con, start, end)
            elif name == "tga_usd_bn":
                v = _tga_path(con, start, end)
            elif name == "tax_dates":
                v = tax_dates(start, end)
            elif name == "onrrp_takeup_usd_bn":
                v = _span(_series(con, "RRPONTSYD"), start, end)
            elif name == "administered_rates":
                v = pd.DataFrame(
                    {k: _series(con, k).loc[: pd.Timestamp(end)] for k in ("IORB", "ONRRP_RATE")}
                ).ffill()
                v = _span(v, start, end)
            elif name == "coupon_settlements":
                v = coupon_settlements(con, start, end)
                if len(v) and (v["with_amounts"] < v["securities"]).any():
                    missing.append(
                        "coupon_settlements: auction amounts are stored only for 2025-26 (securities-search "
                        "file); earlier settlements give dates and counts only"
                    )
            else:  # pragma: no cover - the specs above name only these
                raise DataError(f"internal: no loader for input {name!r}")
            if isinstance(v, pd.Series | pd.DataFrame) and v.empty and name != "tax_dates":
                missing.append(f"{name}: no data in the store for {start}..{end}")
            inputs[name] = v
        observed: dict = {}
        for name in spec.observed:
            if name == "futures_front_month":
                v = _front(con, start, end)
            elif name == "sofr_minus_iorb_bp":
                v = sofr_minus_iorb_bp(con, start, end)
            elif name == "lev_short_change_contracts":
                v = _lev_short_change(con, start, end)
            elif name == "fed_treasury_holdings_usd_bn":  # from the last Wednesday on or before the start
                v = _span(_series(con, "TREAST"), start - dt.timedelta(days=6), end)
            else:  # pragma: no cover
                raise DataError(f"internal: no loader for observed series {name!r}")
            if v.empty:
                missing.append(f"{name} (observed): no data in the store for {start}..{end}")
            observed[name] = v
        if spec.key in ("apr-2025", "late-2025"):
            missing.append(
                "the Fed's Treasury holdings and repo operations after 2025-01-24 are not in the store "
                "(run `basislab data refresh --source fred --source nyfed`); no Fed input or output series"
            )
        return EpisodeData(spec, ic, inputs, observed, missing)
    finally:
        if own:
            con.close()
