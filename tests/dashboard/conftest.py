"""Fixtures of the dashboard tests: a real experiment on the shared local[2] session, a real
``sparkexp serve`` process over its project root (the headless Chromium, ``browser``, is the
suite's: :mod:`support.fixtures`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.dashboard_jobs import learner
from support.dashboard_server import DashboardProcess

from sparkexp import experiment
from sparkexp.result import Result


@pytest.fixture(scope="session")
def project(spark, tmp_path_factory) -> tuple[str, Result]:
    """A project root with two finished experiments: ``grid_1`` (6 trials, the 4 with odd layers
    failed; returned) and ``other_1`` (2 trials, both complete)."""
    root = str(tmp_path_factory.mktemp("dashboard-project"))
    markers = str(tmp_path_factory.mktemp("markers"))
    res = experiment.grid_search(spark, learner, {"lr": [0.1, 0.2], "layers": [1, 2, 3], "marker_dir": [markers]},
                                 root=root, name="grid", metric="accuracy", progress=False)
    assert [t.status for t in res.trials].count("error") == 4
    experiment.grid_search(spark, learner, {"lr": [0.05, 0.3], "layers": [2], "marker_dir": [markers]},
                           root=root, name="other", metric="accuracy", progress=False)
    return root, res


@pytest.fixture(scope="module")
def server(project) -> Iterator[DashboardProcess]:
    with DashboardProcess.start(project[0]) as proc:
        yield proc

