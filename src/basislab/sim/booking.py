"""The one booking primitive: every flow between players is a :class:`Flow` of one instrument from
one account to another, applied by :func:`book`, so each flow balances by construction.

An :class:`Account` names a player's group and field of :class:`~basislab.sim.players.State` and
the instrument that field counts. ``sign = +1`` when the field holds the instrument (an asset),
``-1`` when it counts what the player owes (a fund's ``repo_debt`` holds the repo claim with
sign -1, so a claim moving from the lender to the fund extinguishes the debt on both sides).
``field=None`` marks a side that is derived rather than stored (the clearing house's IM and
pending VM owed back are the funds' claims; the issuer's bonds are not tracked; revaluation P&L
comes from the market). Income (interest, coupons, revaluation, losses forgiven) is the
instrument ``INCOME``, so the P&L ledgers that the audit compares with balance sheets are booked
by the same flows.

Amounts are in USD bn (face for bonds and futures, units for other assets). A flow that touches
the funds carries the fund axis last (``[N]``, ``[K, N]`` or ``[S, N]``); the funds' side sums it
over the leading axes down to the field's shape, the other side over the fund axis and then the
leading axes. A negative amount moves the instrument the other way.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from basislab.sim.players import State

CASH, BONDS, BILLS, OTHER = "cash", "bonds", "bills", "other_assets"
FUTURES, REPO, BACKSTOP_LOAN = "futures", "repo_claim", "backstop_loan"
MARGIN, PENDING_VM, INCOME = "initial_margin", "pending_vm", "income"
DEALER_REPO_CLAIM = "dealer_repo"
CREDIT_LINE, CAPITAL = "credit_line", "capital"


class Account(NamedTuple):
    player: str  # a field of State (the player's group)
    field: str | None  # a field of that group; None: this side is derived, not stored
    instrument: str
    sign: float = 1.0  # +1: the field holds the instrument; -1: the field counts what is owed


class Flow(NamedTuple):
    src: Account
    dst: Account
    amount: jax.Array


def flow(src: Account, dst: Account, amount: jax.Array) -> Flow:
    """``amount`` of one instrument from ``src`` to ``dst`` (both must count that instrument)."""
    if src.instrument != dst.instrument:
        raise ValueError(f"a flow moves one instrument: {src} -> {dst}")
    return Flow(src, dst, jnp.asarray(amount))


def _collapse(x: jax.Array, ndim: int, amount_per_fund: bool, account_per_fund: bool) -> jax.Array:
    if amount_per_fund and not account_per_fund:
        x = x.sum(-1)
    while x.ndim > ndim:
        x = x.sum(0)
    return x


def book(st: State, flows: list[Flow]) -> State:
    """Apply ``flows``: each takes ``amount`` from ``src`` and adds it to ``dst``. Terms landing on
    one field are added at the flow's own shape first and reduced once (the same sums, fewer passes
    over the per-fund arrays)."""
    terms: dict[tuple[str, str], dict[tuple, list]] = {}
    for fl in flows:
        per_fund = fl.src.player == "funds" or fl.dst.player == "funds"
        for acc, direction in ((fl.src, -1.0), (fl.dst, 1.0)):
            if acc.field is None:
                continue
            by_shape = terms.setdefault((acc.player, acc.field), {})
            key = (fl.amount.shape, per_fund)
            by_shape.setdefault(key, []).append(fl.amount if direction * acc.sign > 0 else -fl.amount)
    groups = {name: getattr(st, name) for name in st._fields}
    for (player, field), by_shape in terms.items():
        group = groups[player]
        value = getattr(group, field)
        for (_, per_fund), amounts in by_shape.items():
            total = amounts[0]
            for a in amounts[1:]:
                total = total + a
            value = value + _collapse(total, value.ndim, per_fund, player == "funds")
        groups[player] = group._replace(**{field: value})
    return State(**groups)


# ----------------------------------------------------------------------------------------------
# the accounts of today's players

FUND_CASH = Account("funds", "cash", CASH)
FUND_BONDS = Account("funds", "bonds", BONDS)
FUND_BILLS = Account("funds", "bills", BILLS)
FUND_OTHER = Account("funds", "other_assets", OTHER)
FUND_FUTURES = Account("funds", "futures_short", FUTURES, -1.0)
FUND_REPO = Account("funds", "repo_debt", REPO, -1.0)
FUND_BACKSTOP = Account("funds", "backstop_loan", BACKSTOP_LOAN, -1.0)
FUND_MARGIN = Account("funds", "initial_margin", MARGIN)
FUND_PENDING = Account("funds", "pending_vm", PENDING_VM)
FUND_PNL = Account("funds", "pnl", INCOME)
FUND_CREDIT = Account("funds", "credit_drawn", CREDIT_LINE, -1.0)
FUND_REDEEMED = Account("funds", "redeemed", CAPITAL)  # capital returned to the fund's investors

LENDER_CASH = Account("lenders", "cash", CASH)
LENDER_REPO = Account("lenders", "claims", REPO)
LENDER_INTEREST = Account("lenders", "interest", INCOME)
LENDER_LOSSES = Account("lenders", "losses", INCOME, -1.0)

CCP_CASH = Account("ccp", "cash", CASH)
CCP_MARGIN = Account("ccp", None, MARGIN)  # IM owed back = the posters' claims
CCP_PENDING = Account("ccp", None, PENDING_VM)  # pending VM owed = the holders' claims
CCP_LOSSES = Account("ccp", "losses", INCOME, -1.0)

AM_CASH = Account("asset_managers", "cash", CASH)
AM_FUTURES = Account("asset_managers", "futures_long", FUTURES)
AM_MARGIN = Account("asset_managers", "initial_margin", MARGIN)
AM_PENDING = Account("asset_managers", "pending_vm", PENDING_VM)

INVESTOR_CASH = Account("investors", "cash", CASH)
INVESTOR_BONDS = Account("investors", "bonds", BONDS)
INVESTOR_BILLS = Account("investors", "bills", BILLS)
INVESTOR_OTHER = Account("investors", "other_assets", OTHER)
INVESTOR_CAPITAL = Account("investors", None, CAPITAL)  # the funds' shares they redeem (not tracked)

BACKSTOP_CASH = Account("backstop", "cash", CASH)
BACKSTOP_CLAIMS = Account("backstop", "claims", BACKSTOP_LOAN)
BACKSTOP_INTEREST = Account("backstop", "interest", INCOME)
BACKSTOP_LOSSES = Account("backstop", "losses", INCOME, -1.0)

FED_CASH = Account("fed", "cash", CASH)  # goes negative: reserves created
FED_BONDS = Account("fed", "bonds", BONDS)

DEALER_CASH = Account("dealers", "cash", CASH)
DEALER_BONDS = Account("dealers", "bonds", BONDS)
DEALER_REPO = Account("dealers", "repo_funding", DEALER_REPO_CLAIM, -1.0)
DEALER_CREDIT = Account("dealers", "credit_claims", CREDIT_LINE)  # the banks' committed lines
DEALER_CREDIT_INCOME = Account("dealers", "credit_income", INCOME)

MMF_CASH = Account("money_funds", "cash", CASH)
MMF_CLAIMS = Account("money_funds", "claims", DEALER_REPO_CLAIM)

OTHER_SELLER_CASH = Account("other_sellers", "cash", CASH)
OTHER_SELLER_BONDS = Account("other_sellers", "bonds", BONDS)
OTHER_SELLER_OTHER = Account("other_sellers", "other_assets", OTHER)  # prime money funds' CP and CDs

ISSUER_CASH = Account("issuer", "cash", CASH)
ISSUER_INCOME = Account("issuer", None, INCOME)  # the Treasury's P&L is not tracked
MARKET_INCOME = Account("markets", None, INCOME)  # revaluation: P&L from price moves
