"""Typed errors. Every user-facing failure is a :class:`BasislabError` with a one-line message
that says what is wrong and what is expected; the CLI prints it and exits with code 2."""


class BasislabError(ValueError):
    """Base class of every error basislab raises on bad input."""


class UnknownContractError(BasislabError):
    """A futures root or contract code that basislab does not know."""


class DeliveryMonthError(BasislabError):
    """A delivery month or contract code that cannot be resolved."""


class NotDeliverableError(BasislabError):
    """A bond outside a contract's deliverable basket."""


class DateError(BasislabError):
    """A date outside the supported range (QuantLib: 1901-2199) or dates in an impossible order."""


class PriceDataError(BasislabError):
    """A malformed, empty or non-positive price input."""


class BondError(BasislabError):
    """Impossible bond terms (maturity before settlement, negative coupon, ...)."""


class ScenarioError(BasislabError):
    """An invalid simulation scenario or parameter."""


class SimulationError(BasislabError):
    """A numerical failure inside the simulator (NaN or inf in the state)."""


class DataError(BasislabError):
    """Missing, truncated or malformed data, or a store that cannot be used."""


class RefreshError(DataError):
    """A refresh from the publishers failed (offline, HTTP error, or a bad response); the store is unchanged."""
