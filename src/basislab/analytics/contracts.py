"""CME Treasury futures: contract specs, deliverable grades (with their history), delivery
calendar and contract codes.

Sources: CME Group contract specifications for TU, Z3N, FV, TY, TN, US and UB ("Grade and
Quality", "Termination of Trading", "Last Delivery Date"), as summarised in
``shared/reference/futures-analytics.md``; rule history from the same file and from CBOT/ELX
rule filings (US 25-year cap from March 2011).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from basislab.analytics.calendar import (
    add_months,
    advance,
    first_business_day,
    last_business_day,
    month_end,
    to_ql,
    whole_months,
)
from basislab.analytics.conversion import MONTH_ROUNDED, _check_root, parse_delivery_month
from basislab.errors import DeliveryMonthError

#: CME month codes of the quarterly Treasury cycle.
MONTH_CODES = {"H": 3, "M": 6, "U": 9, "Z": 12}
CODE_OF_MONTH = {v: k for k, v in MONTH_CODES.items()}


@dataclass(frozen=True)
class ContractSpec:
    """Static terms of a CME Treasury futures contract (CME contract specifications)."""

    root: str
    name: str
    face: float  # face value at maturity per contract, USD
    tick: float  # minimum outright price fluctuation, price points per 100
    kind: str  # "note" or "bond": the security type that may be delivered


SPECS: dict[str, ContractSpec] = {
    s.root: s
    for s in (
        ContractSpec("TU", "2-Year T-Note", 200_000.0, 1 / 256, "note"),
        ContractSpec("Z3N", "3-Year T-Note", 200_000.0, 1 / 256, "note"),
        ContractSpec("FV", "5-Year T-Note", 100_000.0, 1 / 128, "note"),
        ContractSpec("TY", "10-Year T-Note", 100_000.0, 1 / 64, "note"),
        ContractSpec("TN", "Ultra 10-Year T-Note", 100_000.0, 1 / 64, "note"),
        ContractSpec("US", "T-Bond", 100_000.0, 1 / 32, "bond"),
        ContractSpec("UB", "Ultra T-Bond", 100_000.0, 1 / 32, "bond"),
    )
}

#: First delivery month with TY's 8-year cap (10 years before; reference file: "<= 10y for
#: contracts before Sep 2023").
TY_8Y_CAP_FROM = (2023, 9)
#: First delivery month with the US bond's "less than 25 years" cap (CBOT, March 2011).
US_25Y_CAP_FROM = (2011, 3)
#: First delivery month of the relaunched 3-year contract (CME, enhanced 3-Year T-Note futures
#: launched 2020-07-13, "addition of aging 7-year notes") with its 7-year original-term limit;
#: the earlier listing took notes of original maturity <= 5y3m.
Z3N_7Y_ORIGINAL_FROM = (2020, 9)


@dataclass(frozen=True)
class GradeRule:
    """Deliverable-grade rule for one delivery month, in whole months.

    Remaining term is measured from the first calendar day of the delivery month (``min_*``,
    ``max_*``) or, where ``max_from_month_end`` is set, the cap from the last calendar day.
    """

    min_remaining: int
    max_remaining: int | None = None  # inclusive cap
    max_exclusive: bool = False  # cap is "less than" (US: < 25 years)
    max_from_month_end: bool = False
    max_original: int | None = None
    min_original: int | None = None
    text: str = ""


def grade_rule(root: str, delivery_month: str) -> GradeRule:
    """The deliverable-grade rule of ``root`` for ``delivery_month`` (``YYYY-MM``), with history."""
    r = _check_root(root)
    ym = parse_delivery_month(delivery_month)
    if r == "TU":
        return GradeRule(
            21,
            24,
            max_from_month_end=True,
            max_original=63,
            text="original term <= 5y3m, remaining >= 1y9m and <= 2y from month end",
        )
    if r == "Z3N":
        orig = 84 if ym >= Z3N_7Y_ORIGINAL_FROM else 63
        return GradeRule(
            33,
            36,
            max_from_month_end=True,
            max_original=orig,
            text=f"original term <= {orig // 12}y{orig % 12}m, remaining >= 2y9m and <= 3y from month end",
        )
    if r == "FV":
        return GradeRule(50, max_original=63, text="original term <= 5y3m, remaining >= 4y2m")
    if r == "TY":
        cap = 96 if ym >= TY_8Y_CAP_FROM else 120
        return GradeRule(78, cap, text=f"remaining >= 6y6m and <= {cap // 12}y")
    if r == "TN":
        return GradeRule(
            113,
            120,
            min_original=114,
            max_original=120,
            text="original-issue 10-year note, remaining >= 9y5m and <= 10y",
        )
    if r == "US":
        if ym >= US_25Y_CAP_FROM:
            return GradeRule(180, 300, max_exclusive=True, text="remaining >= 15y and < 25y")
        return GradeRule(180, text="remaining >= 15y")
    return GradeRule(300, text="remaining >= 25y")  # UB


def grade_mask(root: str, delivery_month: str, maturity, original_term_months=None, kind=None) -> np.ndarray:
    """Vectorised deliverability of bonds (arrays of maturity, original term, kind) for a contract.

    ``original_term_months`` may hold ``-1`` where unknown; such bonds fail a rule that needs it.
    ``kind`` (``"note"``/``"bond"``) is checked only when given.
    """
    rule = grade_rule(root, delivery_month)
    ok = apply_rule(rule, delivery_month, maturity, original_term_months)
    if kind is not None:
        ok &= np.asarray(kind) == SPECS[_check_root(root)].kind
    return ok


def apply_rule(rule: GradeRule, delivery_month: str, maturity, original_term_months=None):
    """Remaining- and original-term tests of ``rule`` for ``delivery_month`` (arrays)."""
    year, month = parse_delivery_month(delivery_month)
    mat = np.asarray(maturity, dtype="datetime64[D]")
    first = date(year, month, 1)
    ok = mat >= np.datetime64(add_months(first, rule.min_remaining), "D")
    if rule.max_remaining is not None:
        base = month_end(year, month) if rule.max_from_month_end else first
        cap = np.datetime64(add_months(base, rule.max_remaining), "D")
        ok &= (mat < cap) if rule.max_exclusive else (mat <= cap)
    if rule.max_original is not None or rule.min_original is not None:
        orig = np.asarray(original_term_months, dtype=np.int64)
        known = orig >= 0
        ok &= known & (orig <= (rule.max_original or 10**6)) & (orig >= (rule.min_original or 0))
    return ok


def original_term_months(issue_date, maturity) -> np.ndarray:
    """Original term in whole months from (original) issue date to maturity."""
    return whole_months(issue_date, maturity)


@dataclass(frozen=True)
class Contract:
    """One listed contract: root and delivery month with its delivery calendar (CME rules).

    TY, TN, US, UB: last trading day = 7th business day before the last business day of the
    month; last delivery day = last business day. TU, Z3N, FV: last trading day = last business
    day of the month; last delivery day = 3rd business day after it. First delivery day = first
    business day of the month. Business days on the US government-bond calendar.
    """

    root: str
    year: int
    month: int

    @property
    def spec(self) -> ContractSpec:
        return SPECS[self.root]

    @property
    def code(self) -> str:
        return f"{self.root}{CODE_OF_MONTH[self.month]}{self.year % 10}"

    @property
    def delivery_month(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_delivery_day(self) -> date:
        return first_business_day(self.year, self.month)

    @property
    def last_trading_day(self) -> date:
        last = last_business_day(self.year, self.month)
        return last if self.root in MONTH_ROUNDED else advance(last, -7)

    @property
    def last_delivery_day(self) -> date:
        last = last_business_day(self.year, self.month)
        return advance(last, 3) if self.root in MONTH_ROUNDED else last

    def grade(self) -> GradeRule:
        return grade_rule(self.root, self.delivery_month)


def contract(root: str, delivery_month: str) -> Contract:
    """The :class:`Contract` of ``root`` for ``delivery_month`` (``YYYY-MM``, quarterly cycle)."""
    r = _check_root(root)
    year, month = parse_delivery_month(delivery_month)
    if month not in CODE_OF_MONTH:
        raise DeliveryMonthError(
            f"{r} has no {delivery_month} contract; expected a March, June, September or December "
            "delivery month (YYYY-03, -06, -09, -12)"
        )
    return Contract(r, year, month)


#: First trading day of a CME/CBOT Treasury futures contract (T-bond futures, CBOT, 1977-08-22):
#: no contract code resolves on an earlier date.
FIRST_TRADING_DAY = date(1977, 8, 22)
#: CME lists Treasury futures "for 3 consecutive contracts in the March quarterly cycle" (CME
#: contract specifications, "Listed Contracts"); a new one is listed when the nearby expires.
LISTED_CONTRACTS = 3


def listed_contracts(root: str, as_of: date) -> list[Contract]:
    """Contracts of ``root`` trading or in delivery on ``as_of``, nearest first: the one in its
    delivery period (past its last trading day, before its last delivery day), if any, then the
    three consecutive quarterly contracts still trading (CME listing rule)."""
    r = _check_root(root)
    to_ql(as_of)  # a date outside QuantLib's range is a DateError
    if as_of < FIRST_TRADING_DAY:
        raise DeliveryMonthError(
            f"no Treasury futures traded on {as_of.isoformat()}; the first contract traded on "
            f"{FIRST_TRADING_DAY.isoformat()}"
        )
    q = (as_of.month - 1) // 3 * 3  # the quarter month before as_of's (0 = last December)
    c = Contract(r, as_of.year - (q == 0), q or 12)
    while c.last_delivery_day < as_of:
        c = _next_contract(c)
    out = [c] if c.last_trading_day < as_of else []
    if out:
        c = _next_contract(c)
    while len(out) < LISTED_CONTRACTS + (1 if out and out[0].last_trading_day < as_of else 0):
        out.append(c)
        c = _next_contract(c)
    return out


def _next_contract(c: Contract) -> Contract:
    return Contract(c.root, c.year + (c.month == 12), c.month % 12 + 3)


def parse_contract(code: str, as_of: date | None = None) -> Contract:
    """Parse a CME code such as ``TYU4``, ``TYU24`` or ``Z3NZ5`` into a :class:`Contract`.

    A one-digit year resolves to the contract listed (or in delivery) on ``as_of`` (default:
    today) with that month and last year digit, by CME's listing rule (three consecutive
    quarterly contracts, see :func:`listed_contracts`); a code that names none of them (an expired
    or not yet listed contract) is refused, with the listed codes in the message. A two-digit year
    means 20YY and may name an expired contract (historical analysis), not an unlisted future one.
    """
    as_of = as_of or date.today()
    text = str(code).strip().upper()
    root = next((r for r in sorted(SPECS, key=len, reverse=True) if text.startswith(r)), None)
    if root is None:
        raise _unknown(code)
    rest = text[len(root) :]
    if len(rest) not in (2, 3) or rest[0] not in MONTH_CODES or not rest[1:].isdigit():
        raise DeliveryMonthError(
            f"cannot resolve contract code {code!r}; expected ROOT + month code (H, M, U, Z) + "
            "year digit(s), e.g. 'TYU4' or 'TYU24'"
        )
    month = MONTH_CODES[rest[0]]
    listed = listed_contracts(root, as_of)
    names = ", ".join(f"{c.code} ({c.delivery_month})" for c in listed)
    if len(rest) == 3:
        c = Contract(root, 2000 + int(rest[1:]), month)
        if (c.year, c.month) > (listed[-1].year, listed[-1].month):
            raise DeliveryMonthError(
                f"contract {code!r} ({c.delivery_month}) is not listed on {as_of.isoformat()}; "
                f"listed: {names}"
            )
        return c
    for c in listed:
        if c.month == month and c.year % 10 == int(rest[1]):
            return c
    past = Contract(root, as_of.year - (as_of.year - int(rest[1])) % 10, month)
    if (past.year, past.month) > (listed[0].year, listed[0].month):
        past = Contract(root, past.year - 10, month)
    raise DeliveryMonthError(
        f"contract {code!r} is not listed on {as_of.isoformat()} (CME lists three quarterly "
        f"contracts); listed: {names}; for the expired {past.delivery_month} contract write "
        f"{root}{rest[0]}{past.year % 100:02d} or pass its --date"
    )


def _unknown(code: str) -> Exception:
    from basislab.errors import UnknownContractError

    return UnknownContractError(
        f"unknown contract {code!r}; expected a code like 'TYU4' with root one of {', '.join(SPECS)}"
    )
