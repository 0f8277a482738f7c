"""Strict JSON output (RFC 8259): no ``NaN`` or ``Infinity`` anywhere.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default, which no strict parser accepts.
Every JSON basislab prints goes through :func:`dumps`: a non-finite number becomes ``null`` and
the object holding it gets a sibling key ``<key>_null_reason`` (``"infinite"``, ``"-infinite"``
or ``"not a number"``), so a reader sees why the value is missing. The final encoding uses
``allow_nan=False``, so a non-finite number that slipped through is an error, not bad JSON.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

import numpy as np


def _reason(x: float) -> str:
    if math.isnan(x):
        return "not a number"
    return "infinite" if x > 0 else "-infinite"


def _scalar(v: Any) -> Any:
    """Plain Python value of numpy scalars, dates and paths."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, bool | int | float | str) or v is None:
        return v
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def finite(obj: Any) -> Any:
    """A copy of ``obj`` (dicts, lists, tuples, scalars) with non-finite floats replaced by ``None``
    and ``<key>_null_reason`` added next to each such dict entry."""
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            key = str(k)
            val = finite(v)
            scalar = _scalar(v) if not isinstance(v, dict | list | tuple) else None
            if isinstance(scalar, float) and not math.isfinite(scalar):
                out[key] = None
                out[f"{key}_null_reason"] = _reason(scalar)
            else:
                out[key] = val
        return out
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    v = _scalar(obj)
    if isinstance(v, list):
        return finite(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def dumps(obj: Any, indent: int | None = 2) -> str:
    """Strict JSON text of ``obj`` (see the module docstring)."""
    return json.dumps(finite(obj), indent=indent, allow_nan=False)
