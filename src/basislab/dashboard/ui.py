"""Small building blocks of the pages: graphs, tables, tiles, messages, and the error guard
that turns any exception of a callback into a message on the page (never a dead page)."""

from __future__ import annotations

import functools
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from dash import dcc, html

from basislab.errors import BasislabError

if TYPE_CHECKING:
    from basislab.dashboard.jobs import JobQueue, Limits

GRAPH_CONFIG: Any = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class Context:
    """What every page needs: the data store, the run store, the limits and the job queue."""

    db: str | None
    runs_dir: str | None
    limits: Limits
    jobs: JobQueue


def graph(fig, gid: str | None = None) -> dcc.Graph:
    kw: dict[str, Any] = {"id": gid} if gid else {}
    return dcc.Graph(figure=fig, config=GRAPH_CONFIG, className="chart", **kw)


def message(text: str, kind: str = "info") -> html.Div:
    """A one-line message: ``info``, ``error`` or ``warn``."""
    return html.Div(text, className=f"msg msg-{kind}", role="alert" if kind == "error" else None)


def fmt(v, spec: str = "{:,.2f}") -> str:
    if v is None or (isinstance(v, float | np.floating) and not np.isfinite(v)):
        return "-"
    if isinstance(v, bool | np.bool_):
        return "yes" if v else ""
    if isinstance(v, float | np.floating):
        return spec.format(v)
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    return str(v)


def table(
    df: pd.DataFrame,
    formats: dict | None = None,
    highlight: str | Sequence[bool] | None = None,
    tid: str | None = None,
):
    """An HTML table of a small frame; ``formats`` maps a column to a format (str or function);
    rows where the boolean column ``highlight`` is true (or the booleans of a list) are marked."""
    formats = formats or {}
    head = html.Tr([html.Th(str(c)) for c in df.columns])
    rows = []
    marks = list(df[highlight]) if isinstance(highlight, str) else list(highlight or [False] * len(df))
    for i, (_, r) in enumerate(df.iterrows()):
        cells = []
        for c in df.columns:
            f = formats.get(c)
            v = r[c]
            cells.append(html.Td(f(v) if callable(f) else fmt(v, f) if f else fmt(v)))
        cls = "hl" if marks and bool(marks[i]) else None
        rows.append(html.Tr(cells, className=cls))
    kw: dict[str, Any] = {"id": tid} if tid else {}
    return html.Table([html.Thead(head), html.Tbody(rows)], className="tbl", **kw)


def tile(label: str, value: str, sub: str = "", kind: str = "", title: str = "") -> html.Div:
    return html.Div(
        [
            html.Div(label, className="tile-label"),
            html.Div(value, className="tile-value"),
            html.Div(sub, className="tile-sub"),
        ],
        className=f"tile {kind}",
        title=title,
    )


def guard(n_outputs: int):
    """Decorator of a callback: a :class:`BasislabError` becomes its one-line message in the first
    output, any other exception an 'internal error' line (logged); other outputs are emptied."""

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except BasislabError as exc:
                msg = message(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, "error")
            except Exception as exc:  # noqa: BLE001 - show it on the page, keep the server alive
                traceback.print_exc()
                msg = message(f"internal error: {type(exc).__name__}: {exc}".splitlines()[0], "error")
            return msg if n_outputs == 1 else (msg, *([None] * (n_outputs - 1)))

        return wrapper

    return deco
