"""CLI command of the fire-sale peers, registered on the main app by :func:`register`:
``basislab firesale DATASET --shock ASSET=PCT --impact PCT --rule threshold|target``.

JAX is imported inside the command only, so ``basislab --help`` stays light.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from basislab.app.common import console


def firesale(
    dataset: Annotated[str, typer.Argument(help="bank system: eba-2018 (48 EU banks, EBA 2018 stress test)")],
    shock: Annotated[
        list[str] | None,
        typer.Option(
            "--shock",
            help="initial price fall ASSET=PCT, repeatable (assets: gov_bonds, corp_bonds); default gov_bonds=20",
        ),
    ] = None,
    impact: Annotated[
        float,
        typer.Option(
            "--impact", help="price fall (%) when 10% of an asset's total quantity is sold in one step"
        ),
    ] = 1.0,
    rule: Annotated[
        str, typer.Option("--rule", help="threshold (delever below 4%) or target (always delever to 5%)")
    ] = "threshold",
    impact_form: Annotated[
        str, typer.Option("--impact-form", help="exponential (INET, Cifuentes et al.) or linear")
    ] = "exponential",
    steps: Annotated[int, typer.Option("--steps", help="number of steps (rounds of selling)")] = 6,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as strict JSON")] = False,
) -> None:
    """Overlapping-portfolio fire sale (Greenwood-Landier-Thesmar 2015, Cont-Schaanning 2017),
    as in INET Oxford's firesale_stresstest: banks below their leverage buffer sell common assets,
    prices fall, more banks breach; prints defaults, quantity sold and final prices."""
    from basislab.errors import ScenarioError
    from basislab.firesale.loader import load_dataset
    from basislab.firesale.run import make_config, parse_shock

    system = load_dataset(dataset)
    if rule not in ("threshold", "target"):
        raise ScenarioError(f"--rule {rule!r}: expected threshold or target")
    if impact_form not in ("exponential", "linear"):
        raise ScenarioError(f"--impact-form {impact_form!r}: expected exponential or linear")
    if not 0.0 <= impact < 100.0:
        raise ScenarioError(f"--impact {impact:g}: expected a percentage in [0, 100)")
    if not 1 <= steps <= 10_000:
        raise ScenarioError(f"--steps {steps}: expected an integer in [1, 10000]")
    shocks = parse_shock(shock or ["gov_bonds=20"], system.assets)
    cfg = make_config(shock=shocks, impact=impact / 100.0, rule=rule, impact_form=impact_form, steps=steps)

    from basislab.firesale.run import run_firesale

    result = run_firesale(system, cfg)
    result = {"dataset": dataset, **result}
    if as_json:
        from basislab.jsonio import dumps

        typer.echo(dumps(result))  # strict JSON: a non-finite number is null with its reason
        return
    _print(result)


def _print(r: dict) -> None:
    con = console()
    shock = ", ".join(f"{k} -{v:g}%" for k, v in r["shock_pct"].items()) or "none"
    con.print(
        f"[bold]fire sale[/] {r['dataset']}: {r['n_banks']} banks, shock {shock}, impact {r['impact_pct']:g}% "
        f"({r['impact_form']}), rule {r['rule']}, {r['steps']} steps",
        highlight=False,
    )
    t = Table("step", "defaults", "quantity sold")
    for i, (d, s) in enumerate(zip(r["defaults_per_step"], r["sold_per_step"]), start=1):
        t.add_row(str(i), str(d), f"{s:,.0f}")
    con.print(t)
    s = Table("metric", "value")
    s.add_row(
        "default fraction",
        f"{r['default_fraction']:.4f} ({round(r['default_fraction'] * r['n_banks'])} banks)",
    )
    s.add_row("sold fraction", f"{r['sold_fraction']:.4f}")
    for asset, p in r["final_prices"].items():
        s.add_row(f"final price {asset}", f"{p:.6f}")
    s.add_row("defaulted", ", ".join(r["defaulted_banks"]) or "none")
    con.print(s)


def register(app: typer.Typer) -> None:
    """Add ``firesale`` to the main app."""
    app.command("firesale")(firesale)
