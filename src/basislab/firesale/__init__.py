"""Overlapping-portfolio fire sales (Greenwood, Landier and Thesmar 2015; Cont and Schaanning
2017) on the JAX engine style of :mod:`basislab.sim`, reproducing the INET Oxford
``firesale_stresstest`` study on the 48 EBA 2018 banks. See ``docs/firesale.md``.

Importing this package does not import JAX; :mod:`basislab.firesale.model` does.
"""

from basislab.firesale.loader import BankSystem, eba_system, load_dataset, synthetic_system
from basislab.firesale.run import (
    FiresaleConfig,
    inet_experiments,
    make_config,
    parse_shock,
    run_batch,
    run_firesale,
)

__all__ = [
    "BankSystem",
    "FiresaleConfig",
    "eba_system",
    "inet_experiments",
    "load_dataset",
    "make_config",
    "parse_shock",
    "run_batch",
    "run_firesale",
    "synthetic_system",
]
