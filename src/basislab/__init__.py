"""basislab: the US Treasury cash-futures basis trade and the systemic risk it carries.

Layers (one subpackage each):

- :mod:`basislab.analytics`: bonds, CME Treasury futures, basis, implied repo, CTD, trade positions.
- :mod:`basislab.sim`: stock-flow-consistent JAX simulator of the basis-trade margin spiral.
- :mod:`basislab.data`: public data snapshot in an embedded DuckDB store, refresh loaders, monitor.
- :mod:`basislab.report` and :mod:`basislab.app`: HTML reports and the command-line interface.
"""

from basislab.errors import BasislabError

__version__ = "0.1.0"
__all__ = ["BasislabError", "__version__"]
