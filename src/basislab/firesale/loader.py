"""Bank systems for the fire-sale engine: the bundled EBA 2018 balance sheets and a seeded
synthetic system of any size.

Balance sheet of bank ``i`` (EUR mn), built from the four EBA columns the way the INET Oxford
study ``ox-inet-resilience/firesale_stresstest`` (``model.py``, ``Model.initialize``) builds it:

* total assets ``A = CET1 / (leverage ratio / 100)``, equity ``E = CET1``, liabilities ``L = A - E``;
* tradable assets (quantities, price 1.0 at the start): government bonds ``G`` (the EBA sum
  "a+b") and corporate bonds ``debt_sec - G``;
* cash ``0.05 A`` (an assumption of that study), other (illiquid) assets ``A - debt_sec - cash``;
* liabilities split in two halves: a loan the bank can repay with cash, and other liabilities.

No network, no JAX: plain numpy, so the CLI can validate input before importing the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

from basislab.errors import DataError

#: Tradable asset classes of the EBA system, in column order of ``BankSystem.holdings``.
EBA_ASSETS = ("corp_bonds", "gov_bonds")
#: Names a user may give to ``--shock`` for each EBA asset class.
ASSET_ALIASES = {"corp_bonds": "corp_bonds", "corpbonds": "corp_bonds", "gov_bonds": "gov_bonds",
                 "govbonds": "gov_bonds"}  # fmt: skip
#: Datasets the loader knows, name -> bundled file.
DATASETS = {"eba-2018": "eba_2018_bank_balance_sheets.csv"}
#: Cash as a share of total assets (INET ``model.py``: ``cash = 0.05 * asset``; an assumption).
CASH_SHARE = 0.05
#: Share of liabilities that is a repayable loan (INET: ``loan = other_liability = liability / 2``).
LOAN_SHARE = 0.5


@dataclass(frozen=True)
class BankSystem:
    """Initial balance sheets of ``N`` banks holding ``K`` common tradable assets (price 1.0).

    Money in the dataset's unit (EUR mn for EBA 2018); holdings are quantities, equal to their
    value at the initial price 1.0.
    """

    names: tuple[str, ...]
    assets: tuple[str, ...]
    holdings: np.ndarray  # [N, K] quantities of tradable assets
    cash: np.ndarray  # [N]
    other_asset: np.ndarray  # [N] illiquid assets, never sold, never repriced
    loan: np.ndarray  # [N] liabilities repayable with cash (the delevering channel)
    other_liab: np.ndarray  # [N] liabilities that are not repaid during the fire sale

    @property
    def total_assets(self) -> np.ndarray:
        return self.cash + self.holdings.sum(1) + self.other_asset

    @property
    def equity(self) -> np.ndarray:
        return self.total_assets - self.loan - self.other_liab


def _number(text: str, what: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"line {line}: {what} {text!r} is not a number") from None
    if not np.isfinite(value) or value < 0:
        raise DataError(f"line {line}: {what} {text!r} must be a finite non-negative number")
    return value


def parse_eba_csv(text: str) -> list[tuple[str, float, float, float, float]]:
    """Rows ``(bank_id, CET1, leverage %, debt securities, government bonds)`` of the EBA file
    (comma header, space-separated rows; government bonds may be written ``a+b``)."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if not lines or not lines[0].startswith("bank_id"):
        raise DataError("EBA balance-sheet file has no 'bank_id,CET1E,leverage,debt_sec,govbonds' header")
    rows = []
    for n, ln in enumerate(lines[1:], start=2):
        parts = ln.split()
        if len(parts) != 5:
            raise DataError(f"line {n}: expected 5 space-separated fields, got {len(parts)}")
        name, cet1, lev, debt, gov = parts
        cet1_v = _number(cet1, "CET1", n)
        lev_v = _number(lev, "leverage", n)
        debt_v = _number(debt, "debt_sec", n)
        gov_v = sum(_number(g, "govbonds", n) for g in gov.split("+"))
        if not 0 < lev_v <= 100:
            raise DataError(f"line {n}: leverage ratio {lev!r} must be a percentage in (0, 100]")
        if gov_v > debt_v:
            raise DataError(f"line {n}: government bonds {gov_v:g} exceed debt securities {debt_v:g}")
        rows.append((name, cet1_v, lev_v, debt_v, gov_v))
    if not rows:
        raise DataError("EBA balance-sheet file has a header but no banks")
    return rows


def eba_system(
    text: str | None = None, cash_share: float = CASH_SHARE, loan_share: float = LOAN_SHARE
) -> BankSystem:
    """The 48 EBA 2018 banks as a :class:`BankSystem` (``text``: a file's content, default the
    bundled ``data/eba_2018_bank_balance_sheets.csv``; ``cash_share`` and ``loan_share``: INET's
    assumptions, exposed for sensitivity runs)."""
    if text is None:
        text = resources.files("basislab.firesale").joinpath("data", DATASETS["eba-2018"]).read_text()
    rows = parse_eba_csv(text)
    cet1 = np.array([r[1] for r in rows])
    lev = np.array([r[2] for r in rows])
    debt = np.array([r[3] for r in rows])
    gov = np.array([r[4] for r in rows])
    assets = cet1 / (lev / 100.0)
    cash = cash_share * assets
    liab = assets - cet1
    other = assets - debt - cash
    if np.any(other < 0):
        bad = [rows[i][0] for i in np.flatnonzero(other < 0)]
        raise DataError(
            f"debt securities exceed {100 * (1 - cash_share):g}% of total assets for {', '.join(bad)}"
        )
    return BankSystem(
        names=tuple(r[0] for r in rows),
        assets=EBA_ASSETS,
        holdings=np.stack([debt - gov, gov], axis=1),
        cash=cash,
        other_asset=other,
        loan=loan_share * liab,
        other_liab=(1 - loan_share) * liab,
    )


def load_dataset(name: str) -> BankSystem:
    """A bundled dataset by name (``eba-2018``); an unknown name is a one-line :class:`DataError`."""
    if name not in DATASETS:
        raise DataError(f"unknown fire-sale dataset {name!r}; expected one of: {', '.join(DATASETS)}")
    return eba_system()


def synthetic_system(n_banks: int, n_assets: int, seed: int = 0) -> BankSystem:
    """A seeded synthetic system for benchmarks and property tests: leverage ratios uniform in
    [3.5%, 8%], tradables 20-60% of assets spread over a random subset of the ``n_assets``
    (overlapping portfolios), cash 5%, liabilities split half loan, half other."""
    rng = np.random.default_rng(seed)
    total = rng.lognormal(mean=np.log(100.0), sigma=1.0, size=n_banks)
    lev = rng.uniform(0.035, 0.08, size=n_banks)
    tradable_share = rng.uniform(0.2, 0.6, size=n_banks)
    weights = rng.exponential(size=(n_banks, n_assets)) * (rng.random((n_banks, n_assets)) < 0.3)
    weights[np.arange(n_banks), rng.integers(0, n_assets, n_banks)] += 1.0  # at least one asset
    weights /= weights.sum(1, keepdims=True)
    holdings = weights * (tradable_share * total)[:, None]
    cash = CASH_SHARE * total
    liab = total * (1 - lev)
    return BankSystem(
        names=tuple(f"B{i:05d}" for i in range(n_banks)),
        assets=tuple(f"A{k:03d}" for k in range(n_assets)),
        holdings=holdings,
        cash=cash,
        other_asset=total - holdings.sum(1) - cash,
        loan=LOAN_SHARE * liab,
        other_liab=(1 - LOAN_SHARE) * liab,
    )
