"""A live dashboard and a REST API over a project's experiments.

``sparkexp serve [ROOT]`` (or :func:`serve` from Python) starts a web server over the project
root: the experiments, each experiment's trials, charts, learning curves, timeline, logs and
failures, updating while experiments run, a comparison of experiments, and actions (kill,
retry failed trials). Needs the optional extra: ``pip install 'sparkexp[dashboard]'``.
See ``docs/dashboard.md``.

Example:
    >>> from sparkexp import dashboard                       # doctest: +SKIP
    >>> board = dashboard.serve("sparkexp-project")         # doctest: +SKIP
    >>> board                                               # doctest: +SKIP
    DashboardServer(url='http://127.0.0.1:43117/', root='sparkexp-project')
    >>> board.stop()                                        # doctest: +SKIP
"""

from __future__ import annotations

from sparkexp.dashboard._server import DashboardServer, serve

__all__ = ["serve", "DashboardServer"]
