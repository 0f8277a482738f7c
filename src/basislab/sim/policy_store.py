"""Survival maps stored with the runs: ``<runs>/policy/<id>/`` holds ``map.json`` (meta, axes,
mean and p90 grids: what a reader or the dashboard needs) and ``per_path.npz`` (every path's
numbers), plus ``manifest.json`` with their SHA-256.

A map is written into a temporary folder and renamed into place (atomic; two processes saving at
once get two whole maps); a damaged map is refused in one line naming the folder to delete.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from basislab.errors import BasislabError
from basislab.jsonio import dumps

FILES = ("map.json", "per_path.npz")
MANIFEST = "manifest.json"
_TMP = ".tmp-"


def policy_home(out_dir: str | Path | None = None) -> Path:
    """The folder of stored maps: ``<out_dir or runs_dir()>/policy``."""
    from basislab.paths import runs_dir

    return Path(out_dir if out_dir is not None else runs_dir()) / "policy"


def _new_id(pm) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{pm.scenario}-{pm.x}-{pm.y}")
    return f"{name}-s{pm.seed}-{stamp}-p{os.getpid()}"


def save_policy_map(pm, out_dir: str | Path | None = None) -> str:
    """Store a :class:`~basislab.sim.policy.PolicyMap`; return its id."""
    home = policy_home(out_dir)
    home.mkdir(parents=True, exist_ok=True)
    mid = _new_id(pm)
    tmp = home / f"{_TMP}{mid}"
    tmp.mkdir()
    try:
        buf = io.BytesIO()
        np.savez(buf, **pm.per_path)
        blobs = {"map.json": dumps({"id": mid, **pm.to_dict()}).encode(), "per_path.npz": buf.getvalue()}
        for name, data in blobs.items():
            with open(tmp / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        manifest = {name: hashlib.sha256(data).hexdigest() for name, data in blobs.items()}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        os.replace(tmp, home / mid)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return mid


def list_policy_maps(out_dir: str | Path | None = None) -> list[str]:
    """Ids of stored maps, oldest first (ids sort by time within a scenario; by mtime across)."""
    home = policy_home(out_dir)
    if not home.is_dir():
        return []
    maps = [p for p in home.iterdir() if p.is_dir() and not p.name.startswith(_TMP)]
    return [p.name for p in sorted(maps, key=lambda p: (p.stat().st_mtime, p.name))]


def load_policy_map(map_id: str = "latest", out_dir: str | Path | None = None):
    """A stored map (``latest``: the newest) as a :class:`~basislab.sim.policy.PolicyMap`."""
    from basislab.sim.policy import PolicyMap

    ids = list_policy_maps(out_dir)
    if map_id == "latest":
        if not ids:
            raise BasislabError(f"no stored policy maps in {policy_home(out_dir)}; run basislab policy first")
        map_id = ids[-1]
    folder = policy_home(out_dir) / map_id
    if map_id not in ids:
        raise BasislabError(f"no stored policy map {map_id!r} in {policy_home(out_dir)}")
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        blobs = {name: (folder / name).read_bytes() for name in FILES}
    except (OSError, ValueError):
        raise BasislabError(
            f"policy map {folder} is incomplete; delete the folder and run it again"
        ) from None
    for name, data in blobs.items():
        if manifest.get(name) != hashlib.sha256(data).hexdigest():
            raise BasislabError(
                f"policy map {folder} is damaged ({name}); delete the folder and run it again"
            )
    meta = json.loads(blobs["map.json"])
    with np.load(io.BytesIO(blobs["per_path.npz"])) as z:
        per_path = {k: z[k] for k in z.files}
    return PolicyMap(
        meta["scenario"],
        meta["x_lever"],
        meta["x_values"],
        meta["y_lever"],
        meta["y_values"],
        meta["paths"],
        meta["funds"],
        meta["steps"],
        meta["seed"],
        per_path,
        meta["wall_s"],
        meta["compiles"],
        meta.get("notes", []),
    )
