"""The local web dashboard (Dash): ``basislab serve``.

Pages over the data store, the analytics and the simulator, built from the same Plotly figures
as the HTML reports (:mod:`basislab.report.charts`). Served from localhost by default, offline
(Dash and plotly.js served from the package; nothing is fetched from the network). Heavy work
(simulations) runs in a bounded background queue (:mod:`basislab.dashboard.jobs`); each browser
session sees only its own jobs and form state.

Import :func:`create_app` lazily: Dash is not imported by the rest of basislab.
"""

from __future__ import annotations


def create_app(**kwargs):
    """Build the Dash app; see :func:`basislab.dashboard.app.create_app`."""
    from basislab.dashboard.app import create_app as _create

    return _create(**kwargs)
