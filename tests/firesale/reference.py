"""An independent, loop-based reference of the INET Oxford fire-sale algorithm
(``ox-inet-resilience/firesale_stresstest``: ``model.py`` ``Model.initialize`` and
``run_simulation``, ``markets.py`` ``AssetMarket``/``Order``, ``institutions.py`` ``Bank``,
``behaviours.py`` ``do_delever``, ``constraints.py`` ``BankLeverageConstraint``), transcribed
bank by bank and asset by asset in plain Python floats, with an explicit order book, so that it
shares no code and no vectorisation with :mod:`basislab.firesale.model`.

Used by the tests (the engine must match it) and by ``benchmarks/bench_firesale.py`` (baseline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

EPS = 1e-9  # INET contracts.py


@dataclass
class RefBank:
    name: str
    cash: float
    other_asset: float
    loan: float
    other_liab: float
    qty: list[float]
    for_sale: list[float] = field(default_factory=list)
    alive: bool = True
    trigger_default: bool = False

    def __post_init__(self) -> None:
        self.for_sale = [0.0] * len(self.qty)


def eba_banks_from_csv(text: str) -> list[RefBank]:
    """INET ``Model.initialize``: assets = CET1 / leverage, cash 5%, corporate bonds = debt
    securities - government bonds, other assets the rest, liabilities half loan, half other."""
    banks = []
    for line in text.strip().split("\n")[1:]:
        name, cet1, lev, debt, gov = line.split(" ")
        gov_v = sum(float(x) for x in gov.split("+"))
        debt_v = float(debt)
        asset = float(cet1) / (float(lev) / 100)
        cash = 0.05 * asset
        liability = asset - float(cet1)
        banks.append(
            RefBank(
                name=name,
                cash=cash,
                other_asset=asset - debt_v - cash,
                loan=liability / 2,
                other_liab=liability / 2,
                qty=[debt_v - gov_v, gov_v],
            )
        )
    return banks


def _sell_proportionally(bank: RefBank, prices: list[float], book: list, amount: float | None) -> None:
    """INET ``perform_proportionally`` over the eligible ``SellAsset`` actions."""
    eligible = [k for k in range(len(bank.qty)) if bank.qty[k] > bank.for_sale[k]]
    maximum = 0.0
    for k in eligible:
        maximum += (bank.qty[k] - bank.for_sale[k]) * prices[k]
    if amount is None:
        amount = maximum
    if maximum <= 0 or amount <= 0:
        return
    amount = min(amount, maximum)
    for k in eligible:
        part = (bank.qty[k] - bank.for_sale[k]) * prices[k] * amount / maximum
        if part > 0:
            if prices[k] <= EPS:
                continue
            quantity = part / prices[k]
            if abs(quantity) <= EPS:
                continue
            bank.for_sale[k] += quantity
            book.append((bank, k, quantity))


def reference_firesale(
    banks: list[RefBank],
    shock: list[float],
    impact: float,
    *,
    linear: bool = False,
    lev_min: float = 0.03,
    lev_buffer: float = 0.04,
    lev_target: float = 0.05,
    steps: int = 6,
) -> dict:
    """Run the fire sale on ``banks`` (mutated). Returns defaults per step, cumulative quantity
    sold per asset, total initial quantity per asset, final prices and the survivors."""
    n_assets = len(shock)
    prices = [1.0 * (1.0 - shock[k]) for k in range(n_assets)]  # apply_initial_shock
    total = [0.0] * n_assets
    for b in banks:
        for k in range(n_assets):
            total[k] += b.qty[k]
    beta = -10 * math.log(1 - impact)
    sold = [0.0] * n_assets
    book: list = []
    defaults = []
    for _ in range(steps):
        # Bank.step(): a bank that defaulted last step sells everything it has left
        for b in banks:
            if b.trigger_default:
                b.trigger_default = False
                _sell_proportionally(b, prices, book, None)
        # AssetMarket.clear_the_market(): one price move per asset, then settle at mid price
        old = list(prices)
        amounts: dict[int, float] = {}
        for _, k, q in book:
            amounts[k] = amounts.get(k, 0.0) + q
        for k, v in amounts.items():
            if total[k] > 0:
                f = v / total[k]
                prices[k] = (
                    prices[k] * max(0.0, 1 - 10 * impact * f) if linear else prices[k] * math.exp(-f * beta)
                )
            sold[k] += v
        for b, k, q in book:
            q_sold = min(b.qty[k], q)
            b.qty[k] -= q_sold
            b.for_sale[k] -= q_sold
            value = q_sold * (prices[k] + old[k]) / 2
            if value >= EPS:
                b.cash += value
        book = []
        # Bank.act(): default, or delever (do_delever)
        n_defaults = 0
        for b in banks:
            if not b.alive:
                continue
            assets = 0.0  # FastLedger order: tradables, other assets, then cash
            for k in range(n_assets):
                assets += b.qty[k] * prices[k]
            assets += b.other_asset
            assets += b.cash
            equity = assets - (b.loan + b.other_liab)
            lev = equity / assets
            if lev < lev_min:
                b.alive = False
                b.trigger_default = True
                n_defaults += 1
                continue
            balance = b.cash
            wanted = 0.0 if not lev < lev_buffer else max(0.0, equity / lev - equity / lev_target)
            delever = min(balance, wanted)
            if delever > 0:
                if b.loan > 0:
                    delever = min(delever, b.loan)
                    b.cash -= delever
                    b.loan -= delever
                else:
                    delever = 0.0
                balance -= delever
            if balance < delever:
                _sell_proportionally(b, prices, book, delever - balance)
        defaults.append(n_defaults)
    return {
        "defaults_per_step": defaults,
        "sold": sold,
        "total": total,
        "prices": prices,
        "alive": [b.alive for b in banks],
        "cash": [b.cash for b in banks],
        "loan": [b.loan for b in banks],
        "qty": [list(b.qty) for b in banks],
    }
