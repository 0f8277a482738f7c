"""Treasury bond and CME Treasury futures analytics (DLV-grade basis engine)."""

from basislab.analytics.conversion import conversion_factor

__all__ = ["conversion_factor"]
