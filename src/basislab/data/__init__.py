"""Data layer: the bundled public-data snapshot, the embedded DuckDB store and refresh loaders."""

from importlib.resources import files
from pathlib import Path


def snapshot_path(name: str) -> Path:
    """Path of a file in the bundled offline snapshot (``basislab/data/snapshot``).

    The files are copied unchanged from the public sources listed in ``snapshot/SOURCES.md``.
    """
    from basislab.errors import DataError

    path = Path(str(files("basislab.data") / "snapshot" / name))
    if not path.exists():
        raise DataError(f"bundled snapshot file {name!r} is missing from {path.parent}; reinstall basislab")
    return path
