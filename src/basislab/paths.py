"""One home for everything basislab writes, by the platform's conventions (platformdirs).

=============  ==========================  ==============================================
what           environment variable        default (Linux; macOS and Windows by platformdirs)
=============  ==========================  ==============================================
data store     ``BASISLAB_DATA_DIR``       ``$XDG_DATA_HOME/basislab`` (~/.local/share/basislab)
stored runs    ``BASISLAB_RUNS_DIR``       ``<data dir>/runs``
caches         ``BASISLAB_CACHE_DIR``      ``$XDG_CACHE_HOME/basislab`` (~/.cache/basislab)
JAX cache      ``BASISLAB_JAX_CACHE_DIR``  ``<cache dir>/jax``
=============  ==========================  ==============================================

Each folder moves with its one variable; the runs folder follows ``BASISLAB_DATA_DIR`` unless
``BASISLAB_RUNS_DIR`` is set. ``BASISLAB_HOME`` (the old single folder, ``~/.basislab``) is still
honoured for runs when set. Nothing here creates a folder: callers create what they write.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import platformdirs

APP = "basislab"


def _env(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    """Folder of the data store (``BASISLAB_DATA_DIR``, else the platform's user data folder)."""
    return _env("BASISLAB_DATA_DIR") or Path(platformdirs.user_data_dir(APP, appauthor=False))


def runs_dir() -> Path:
    """Folder of stored simulation runs (``BASISLAB_RUNS_DIR``, else ``$BASISLAB_HOME``, else
    ``data_dir()/runs``)."""
    return _env("BASISLAB_RUNS_DIR") or _env("BASISLAB_HOME") or data_dir() / "runs"


def cache_dir() -> Path:
    """Folder of caches (``BASISLAB_CACHE_DIR``, else the platform's user cache folder)."""
    return _env("BASISLAB_CACHE_DIR") or Path(platformdirs.user_cache_dir(APP, appauthor=False))


def jax_cache_dir() -> Path:
    """Persistent JAX compilation cache (``BASISLAB_JAX_CACHE_DIR``, else ``cache_dir()/jax``)."""
    return _env("BASISLAB_JAX_CACHE_DIR") or cache_dir() / "jax"


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically: a temporary file in the same folder, flushed to disk,
    then renamed over ``path`` (readers see the old file or the new one, never half of one; a kill
    leaves at most a ``.tmp-*`` file beside it)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
