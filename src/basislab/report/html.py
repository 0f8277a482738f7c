"""HTML reports: sections of prose and Plotly figures in one file.

By default (``plotlyjs="inline"``) Plotly's JavaScript (~4.6 MB) is inlined once, so a report opens
offline and can be mailed as one file. ``plotlyjs="shared"`` writes ``plotly.min.js`` once beside
the report and links it, so a folder of reports shares one copy (each report is then a few
hundred kB). Neither loads anything from the network. Writes are atomic (temporary file, then
rename), so two processes writing the same report never leave a torn file.
"""

from __future__ import annotations

import html
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1b1b1b;line-height:1.5}
h1{border-bottom:2px solid #1f4e79;padding-bottom:.2em}h2{color:#1f4e79;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}th{background:#eef3f8}td:first-child,th:first-child{text-align:left}
.note{color:#555;font-size:.9em}.kpi{display:inline-block;margin:.4em 1.2em .4em 0}
.kpi b{display:block;font-size:1.4em;color:#1f4e79}
"""


@dataclass
class Section:
    """One part of a report: a heading, explanatory text (plain or trusted HTML), figures, tables."""

    title: str
    text: str = ""
    figures: list[go.Figure] = field(default_factory=list)
    tables_html: list[str] = field(default_factory=list)
    text_is_html: bool = False


PLOTLYJS_MODES = ("inline", "shared")
SHARED_PLOTLYJS = "plotly.min.js"


def _check_mode(plotlyjs: str) -> None:
    if plotlyjs not in PLOTLYJS_MODES:
        from basislab.errors import BasislabError

        raise BasislabError(f"plotlyjs={plotlyjs!r}; expected one of {', '.join(PLOTLYJS_MODES)}")


def render(
    title: str, sections: list[Section], subtitle: str = "", footer: str = "", plotlyjs: str = "inline"
) -> str:
    """Render sections into one HTML document: plotly.js inlined once (``inline``) or linked to
    ``plotly.min.js`` beside the report (``shared``)."""
    _check_mode(plotlyjs)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if subtitle:
        parts.append(f"<p class='note'>{html.escape(subtitle)}</p>")
    first = True
    for sec in sections:
        parts.append(f"<h2>{html.escape(sec.title)}</h2>")
        if sec.text:
            parts.append(sec.text if sec.text_is_html else f"<p>{html.escape(sec.text)}</p>")
        parts.extend(sec.tables_html)
        for fig in sec.figures:
            parts.append(
                pio.to_html(fig, full_html=False, include_plotlyjs=_include(plotlyjs) if first else False)
            )
            first = False
    if footer:
        parts.append(f"<hr><p class='note'>{html.escape(footer)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _include(plotlyjs: str) -> bool | str:
    return True if plotlyjs == "inline" else SHARED_PLOTLYJS


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(
    path: str | Path,
    title: str,
    sections: list[Section],
    subtitle: str = "",
    footer: str = "",
    plotlyjs: str = "inline",
) -> Path:
    """Write an HTML report to ``path`` and return the path; with ``plotlyjs="shared"`` also
    write ``plotly.min.js`` beside it (when it is not there yet)."""
    _check_mode(plotlyjs)
    path = Path(path)
    atomic_write(path, render(title, sections, subtitle, footer, plotlyjs))
    if plotlyjs == "shared":
        from plotly.offline import get_plotlyjs

        js = path.parent / SHARED_PLOTLYJS
        if not js.exists():
            atomic_write(js, get_plotlyjs())
    return path
