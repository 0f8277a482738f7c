"""basislab: the US Treasury cash-futures basis trade and the systemic risk it carries.

Layers (one subpackage each):

- :mod:`basislab.analytics`: bonds, CME Treasury futures, basis, implied repo, CTD, trade positions.
- :mod:`basislab.sim`: stock-flow-consistent JAX simulator of the basis-trade margin spiral.
- :mod:`basislab.data`: public data snapshot in an embedded DuckDB store, refresh loaders, monitor.
- :mod:`basislab.report` and :mod:`basislab.app`: HTML reports and the command-line interface.
"""

from importlib.metadata import PackageNotFoundError, version

from basislab.errors import BasislabError

try:  # one version source: pyproject.toml's [project] version, as installed
    __version__ = version("basislab")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
    __version__ = "0+unknown"
__all__ = ["BasislabError", "__version__"]
