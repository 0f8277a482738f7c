"""The basis trade as a position: long cash CTD in repo, short futures, margins, P&L and stress.

Conventions (per 100 face unless stated; money in US dollars):

- Cash leg: face ``Q`` of the bond at clean price ``P`` and accrued ``AI``; market value
  ``MV = Q (P + AI) / 100``. Repo leg: the fund borrows ``(1 - h) MV`` at the repo rate ``r``
  (Act/360) and posts the bond; ``h`` is the haircut (Banegas & Monin 2023: 74% of hedge-fund
  Treasury repo at zero or negative haircut, system-facts ``zero_haircut_share_pf``).
- Futures leg: ``N`` contracts short, with ``N = Q CF / face`` (conversion-factor hedge, the
  delivery-matched ratio) or ``N = Q DV01_bond / (face DV01_fut)``, ``DV01_fut = DV01_ctd / CF``
  (DV01 hedge; Burghardt et al., *The Treasury Bond Basis*, ch. 3). Initial margin ``IM`` per
  contract is posted in cash at the clearing house.
- Equity needed = haircut ``h MV`` + initial margin ``N IM``. The re-pledging loop (each dollar of
  equity buys bonds that are pledged to borrow the next dollar) converges to leverage
  ``1 / (h + m)`` with ``m = N IM / MV`` (Brunnermeier & Pedersen 2009, funding constraint).
- Expected P&L to delivery assumes the futures price is unchanged and the basis converges: per
  100 face it is minus the net basis at the repo rate (CME / Bloomberg DLV convention), plus the
  repo interest saved on the part of the bond bought with equity.
- Stress: cash needed today. Repo lenders call margin in the morning on the price fall of the
  collateral, ``(1 - h) Q dP / 100``, and on a haircut hike ``Q (P + AI) dh / 100``; the clearing
  house asks for an initial-margin increase ``N dIM``; variation margin on the short futures
  ``N face dF / 100`` is paid or received at the end-of-day settlement, through a different
  counterparty. The gross need (before that variation margin arrives) is what the fund must hold
  in the morning; the net need is what is left once it has arrived. See ``docs/basis-trade.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from basislab.errors import BasislabError

#: CME initial margin per contract used by default (US dollars). TU: $810 (system-facts
#: ``cme_margin_tu``); TY: $1,755 (``cme_margin_ty_2011``, the July 2011 level). The other roots
#: scale TY's margin by their futures DV01 relative to TY's on the same day (margin follows price
#: volatility, which for a Treasury future is its DV01 times yield volatility).
DEFAULT_IM_PER_CONTRACT = {"TU": 810.0, "TY": 1755.0}


class TradeInputError(BasislabError):
    """Impossible trade parameters (negative notional, haircut outside [0, 1), ...)."""


@dataclass(frozen=True)
class StressMove:
    """A one-day market move. ``yield_bp`` > 0 means yields up (prices down); ``basis_32nds`` > 0
    means the cash bond cheapens against futures (the basis widens); ``haircut_pp`` is the rise of
    the repo haircut in percentage points; ``im_change_pct`` the rise of initial margin in %."""

    name: str
    yield_bp: float = 0.0
    basis_32nds: float = 0.0
    haircut_pp: float = 0.0
    im_change_pct: float = 0.0


#: The default stress grid: single-factor moves and two combined days. "Dash-for-cash day" is a
#: hypothetical combination in the spirit of March 2020 (10y yield +64bp over Mar 9-18 2020,
#: system-facts ``ust10y_rise_mar9_18``: about 20bp on the worst days; haircuts and CME margins
#: raised at once); "April 2025 day" uses the ~50bp weekly rise of ``ust10y_apr2025`` spread over
#: two days.
DEFAULT_STRESS = (
    StressMove("yields +25bp", yield_bp=25),
    StressMove("yields -25bp", yield_bp=-25),
    StressMove("yields +50bp", yield_bp=50),
    StressMove("basis +4/32", basis_32nds=4),
    StressMove("basis +16/32", basis_32nds=16),
    StressMove("haircut +2pp", haircut_pp=2),
    StressMove("haircut +5pp", haircut_pp=5),
    StressMove("initial margin +50%", im_change_pct=50),
    StressMove("initial margin +100%", im_change_pct=100),
    StressMove("April 2025 day", yield_bp=25, basis_32nds=4, im_change_pct=25),
    StressMove("dash-for-cash day", yield_bp=20, basis_32nds=8, haircut_pp=2, im_change_pct=25),
)


def repledging_loop(
    haircut: float, im_per_dollar: float, equity: float = 1.0, tol: float = 0.01, max_rounds: int = 60
) -> pd.DataFrame:
    """The re-pledging loop: equity buys bonds (and posts the futures margin on them), the bonds
    are pledged in repo, the cash borrowed buys the next round of bonds, until the haircut (and
    margin) stop it.

    Round ``k`` buys ``b_k = E (1 - h)^k / (1 + m)^(k + 1)`` of bonds, so the total converges to
    ``E / (h + m)``: leverage ``1 / (h + m)`` (Brunnermeier & Pedersen 2009, RFS 22(6), the
    funding constraint ``sum |x_j| m_j <= W``). With ``h = m = 0`` the loop never stops: the
    leverage is bounded only by what lenders will lend, which is why zero-haircut repo matters.
    Rows are produced until a round adds less than ``tol`` of the limit or ``max_rounds``.
    """
    if not 0 <= haircut < 1:
        raise TradeInputError(f"haircut {haircut!r} is not valid; expected a fraction in [0, 1)")
    if im_per_dollar < 0:
        raise TradeInputError(f"initial margin per dollar {im_per_dollar!r} must be >= 0")
    limit = np.inf if haircut + im_per_dollar == 0 else equity / (haircut + im_per_dollar)
    rows, cash, total = [], equity, 0.0
    for k in range(max_rounds):
        bought = cash / (1 + im_per_dollar)
        borrowed = (1 - haircut) * bought
        total += bought
        rows.append(
            {
                "round": k,
                "cash_in": cash,
                "bonds_bought": bought,
                "margin_posted": bought * im_per_dollar,
                "repo_borrowed": borrowed,
                "cumulative_bonds": total,
                "leverage": total / equity,
            }
        )
        cash = borrowed
        if np.isfinite(limit) and bought < tol * limit:
            break
    out = pd.DataFrame(rows)
    out.attrs["leverage_limit"] = limit / equity if np.isfinite(limit) else np.inf
    return out


@dataclass(frozen=True)
class TradeLegs:
    """Resolved legs of a basis trade (all money in dollars)."""

    contract: str
    root: str
    delivery_month: str
    settlement: date
    delivery: date
    cusip: str
    coupon_pct: float
    maturity: date
    face: float  # cash bond face (notional)
    clean_price: float
    accrued: float
    conversion_factor: float
    futures_price: float
    contract_face: float
    contracts: float  # futures contracts short
    hedge: str
    haircut: float
    repo_pct: float
    im_per_contract: float
    bond_dv01: float  # per 100 face
    futures_dv01: float  # per 100 face of futures
    implied_repo_pct: float
    net_basis: float  # points per 100 face, at repo_pct
    gross_basis: float
    days: int

    @property
    def market_value(self) -> float:
        return self.face * (self.clean_price + self.accrued) / 100.0

    @property
    def repo_loan(self) -> float:
        return (1.0 - self.haircut) * self.market_value

    @property
    def initial_margin(self) -> float:
        return self.contracts * self.im_per_contract

    @property
    def equity(self) -> float:
        return self.haircut * self.market_value + self.initial_margin


def hedge_contracts(
    face: float,
    conversion_factor: float,
    contract_face: float,
    hedge: str,
    bond_dv01: float,
    futures_dv01: float,
) -> float:
    """Number of futures to short against ``face`` of the bond, rounded to whole contracts.

    ``hedge="cf"``: ``face CF / contract_face`` (delivery-matched); ``hedge="dv01"``:
    ``face DV01_bond / (contract_face DV01_fut)`` with both DV01s per 100 face.
    """
    if hedge == "cf":
        n = face * conversion_factor / contract_face
    elif hedge == "dv01":
        n = face * bond_dv01 / (contract_face * futures_dv01)
    else:
        raise TradeInputError(f"hedge {hedge!r} is not valid; expected 'cf' or 'dv01'")
    return float(np.round(n))


def stress_table(legs: TradeLegs, moves=DEFAULT_STRESS, cash_buffer: float = 0.0) -> pd.DataFrame:
    """Cash needed today for each one-day move, and how many days the buffer lasts.

    Columns (dollars): ``repo_margin_call`` (morning, repo lender: ``(1-h) Q dP/100`` on a price
    fall), ``haircut_call`` (``Q (P+AI) dh/100``), ``im_call`` (clearing house), ``vm`` (end of
    day; > 0 = paid by the fund), ``cash_needed_gross`` (before the day's variation margin
    arrives), ``cash_needed_net`` (after it), ``mtm_pnl`` (the position's mark-to-market),
    ``buffer_days_gross``/``buffer_days_net``: whole days the buffer lasts if the same move
    repeats every day (inf when no cash is needed).
    """
    rows = []
    q = legs.face
    for mv in moves:
        d_price = -legs.bond_dv01 * mv.yield_bp - mv.basis_32nds / 32.0  # cash, per 100
        d_fut = -legs.futures_dv01 * mv.yield_bp  # futures, per 100 of futures face
        new_mv = q * (legs.clean_price + d_price + legs.accrued) / 100.0
        repo_call = max(0.0, -(1 - legs.haircut) * q * d_price / 100.0)
        haircut_call = max(0.0, new_mv * mv.haircut_pp / 100.0)
        im_call = max(0.0, legs.initial_margin * mv.im_change_pct / 100.0)
        vm = legs.contracts * legs.contract_face * d_fut / 100.0  # short pays when futures rise
        gross = repo_call + haircut_call + im_call + max(0.0, vm)
        net = repo_call + haircut_call + im_call + vm
        mtm = q * d_price / 100.0 - vm
        rows.append(
            {
                "move": mv.name,
                **{k: v for k, v in asdict(mv).items() if k != "name"},
                "repo_margin_call": repo_call,
                "haircut_call": haircut_call,
                "im_call": im_call,
                "vm": vm,
                "cash_needed_gross": gross,
                "cash_needed_net": net,
                "mtm_pnl": mtm,
                "buffer_days_gross": _days(cash_buffer, gross),
                "buffer_days_net": _days(cash_buffer, net),
            }
        )
    return pd.DataFrame(rows)


def _days(buffer: float, need: float) -> float:
    # below one cent there is nothing to pay (float noise of an exactly offsetting hedge)
    return float("inf") if need < 0.01 else float(np.floor(buffer / need))


@dataclass(frozen=True)
class TradeReport:
    """Everything ``basislab trade`` shows: legs, equity, leverage, carry, P&L, stress."""

    legs: TradeLegs
    cash_buffer: float
    repledging: pd.DataFrame = field(repr=False)
    stress: pd.DataFrame = field(repr=False)

    @property
    def leverage(self) -> float:
        return self.legs.market_value / self.legs.equity if self.legs.equity > 0 else float("inf")

    @property
    def carry(self) -> float:
        """Carry to delivery in dollars: coupon income minus repo cost on the full dirty price
        (gross basis minus net basis, Bloomberg DLV convention), times face / 100."""
        return (self.legs.gross_basis - self.legs.net_basis) * self.legs.face / 100.0

    @property
    def expected_pnl(self) -> float:
        """P&L to delivery if the basis converges and the futures price is unchanged: minus the
        net basis, plus the repo interest saved on the equity-financed part of the bond."""
        lg = self.legs
        saved = lg.haircut * lg.market_value * lg.repo_pct / 100.0 * lg.days / 360.0
        return -lg.net_basis * lg.face / 100.0 + saved

    @property
    def return_on_equity_pct(self) -> float:
        """Expected P&L over equity, annualised on Act/360."""
        lg = self.legs
        if lg.equity <= 0 or lg.days <= 0:
            return float("nan")
        return self.expected_pnl / lg.equity * 360.0 / lg.days * 100.0

    def summary(self) -> dict:
        lg = self.legs
        return {
            **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(lg).items()},
            "market_value": lg.market_value,
            "repo_loan": lg.repo_loan,
            "initial_margin": lg.initial_margin,
            "equity": lg.equity,
            "cash_buffer": self.cash_buffer,
            "leverage": self.leverage,
            "leverage_limit": self.repledging.attrs["leverage_limit"],
            "carry": self.carry,
            "expected_pnl": self.expected_pnl,
            "return_on_equity_pct": self.return_on_equity_pct,
        }


def _ty_margin_per_dv01() -> float:
    """TY initial margin per dollar of futures DV01 per contract, from the bundled TYU4 DLV of
    2024-06-26 and ``DEFAULT_IM_PER_CONTRACT['TY']``: the scale for roots without a sourced margin."""
    from basislab.analytics.basis import dlv, futures_dv01
    from basislab.analytics.market import FUTURES_DATE, market_inputs

    m = market_inputs("TYU4", FUTURES_DATE)
    table = dlv("TY", "2024-09", m.futures_price, m.bonds, m.settlement, m.repo_pct)
    return DEFAULT_IM_PER_CONTRACT["TY"] / (futures_dv01(table) * 1000.0)


def basis_trade(
    code: str,
    notional: float,
    haircut: float = 0.0,
    *,
    as_of: date | None = None,
    hedge: str = "cf",
    bonds: pd.DataFrame | None = None,
    futures_price: float | None = None,
    settlement: date | None = None,
    repo_pct: float | None = None,
    im_per_contract: float | None = None,
    cash_buffer: float | None = None,
    cusip: str | None = None,
    moves=DEFAULT_STRESS,
) -> TradeReport:
    """Build the basis trade on ``code`` (e.g. ``"TYU4"``): long ``notional`` face of the CTD (or
    of ``cusip``) financed in repo at ``haircut``, short futures at the ``hedge`` ratio.

    Market inputs default to the bundled data of 2024-06-26 (FedInvest prices, CME closes, SOFR
    as the repo rate, settlement T+1); pass ``bonds``/``futures_price``/``settlement``/``repo_pct``
    for your own. ``im_per_contract`` defaults to :data:`DEFAULT_IM_PER_CONTRACT` (scaled by
    futures DV01 for other roots); ``cash_buffer`` (spare cash beyond the equity posted) defaults
    to half the equity needed, an assumption to override.
    """
    from basislab.analytics.basis import ctd, dlv, futures_dv01
    from basislab.analytics.market import FUTURES_DATE, market_inputs

    if not np.isfinite(notional) or notional <= 0:
        raise TradeInputError(
            f"notional {notional!r} is not valid; expected a positive face amount in dollars"
        )
    if not np.isfinite(haircut) or not 0 <= haircut < 1:
        raise TradeInputError(f"haircut {haircut!r} is not valid; expected a fraction in [0, 1), e.g. 0.02")
    if im_per_contract is not None and not (np.isfinite(im_per_contract) and im_per_contract >= 0):
        raise TradeInputError(f"initial margin {im_per_contract!r} per contract must be >= 0 dollars")
    if cash_buffer is not None and not (np.isfinite(cash_buffer) and cash_buffer >= 0):
        raise TradeInputError(f"cash buffer {cash_buffer!r} must be >= 0 dollars")
    m = market_inputs(
        code,
        as_of or FUTURES_DATE,
        bonds=bonds,
        futures_price=futures_price,
        settlement=settlement,
        repo_pct=repo_pct,
        filter_basket=bonds is not None,
    )
    c, fut, repo = m.contract, m.futures_price, m.repo_pct
    table = dlv(c.root, c.delivery_month, fut, m.bonds, m.settlement, repo)
    if cusip is None:
        row = ctd(table)
    else:
        hit = table[table["cusip"] == cusip]
        if hit.empty:
            raise TradeInputError(
                f"bond {cusip} is not in the {c.code} basket; expected one of {', '.join(table['cusip'])}"
            )
        row = hit.iloc[0]
    fut_dv01 = futures_dv01(table)
    contract_face = float(c.spec.face)
    if im_per_contract is None:
        im_per_contract = DEFAULT_IM_PER_CONTRACT.get(c.root)
        if im_per_contract is None:
            im_per_contract = _ty_margin_per_dv01() * fut_dv01 * contract_face / 100.0
    n = hedge_contracts(
        notional, float(row["conversion_factor"]), contract_face, hedge, float(row["dv01"]), fut_dv01
    )
    if n < 1:
        least = 0.5 * contract_face / float(row["conversion_factor"])
        raise TradeInputError(
            f"notional {notional:,.0f} is too small to hedge with one {c.code} contract "
            f"({contract_face:,.0f} face); expected at least about {least:,.0f} dollars of face"
        )
    legs = TradeLegs(
        contract=c.code,
        root=c.root,
        delivery_month=c.delivery_month,
        settlement=pd.Timestamp(row["settlement"]).date(),
        delivery=pd.Timestamp(row["delivery"]).date(),
        cusip=str(row["cusip"]),
        coupon_pct=float(row["coupon_pct"]),
        maturity=pd.Timestamp(row["maturity"]).date(),
        face=float(notional),
        clean_price=float(row["clean_price"]),
        accrued=float(row["accrued"]),
        conversion_factor=float(row["conversion_factor"]),
        futures_price=float(fut),
        contract_face=contract_face,
        contracts=n,
        hedge=hedge,
        haircut=float(haircut),
        repo_pct=float(repo),
        im_per_contract=float(im_per_contract),
        bond_dv01=float(row["dv01"]),
        futures_dv01=fut_dv01,
        implied_repo_pct=float(row["implied_repo_pct"]),
        net_basis=float(row["net_basis"]),
        gross_basis=float(row["gross_basis"]),
        days=int(row["days"]),
    )
    buffer = 0.5 * legs.equity if cash_buffer is None else float(cash_buffer)
    loop = repledging_loop(legs.haircut, legs.initial_margin / legs.market_value)
    return TradeReport(legs, buffer, loop, stress_table(legs, moves, buffer))
