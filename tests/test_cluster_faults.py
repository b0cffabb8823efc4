"""An executor dies mid-trial on a real standalone cluster (master + 2 workers).

The trial SIGKILLs its own executor JVM, as the kernel's OOM killer or a lost node would; the
driver runs in its own process (``executor_kill_driver.py``).
"""

from __future__ import annotations

import collections
from typing import Any

import pytest
from support.cluster_fixture import StandaloneCluster, cluster, run_driver  # noqa: F401 - fixture

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


@pytest.fixture(scope="module")
def seen(cluster: StandaloneCluster, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # noqa: F811
    root = str(tmp_path_factory.mktemp("project")) + "/"
    return run_driver(cluster.env(), cluster.master_url, cluster.webui_url, root,
                      script="executor_kill_driver.py", logs=cluster.logs)


def test_trial_on_a_dead_executor_is_run_again_elsewhere(seen):
    trials = {t["i"]: t for t in seen["trials"]}
    assert [t["status"] for t in seen["trials"]] == ["complete"] * 8, [t["error"] for t in seen["trials"]]
    killer = trials[2]
    first_jvm, *later = (int(p) for p in seen["runs"]["2"])
    assert later and killer["attempt"] == 2  # it ran again, and once more only
    assert killer["jvm"] != first_jvm  # in another executor JVM than the one that died


def test_every_trial_is_recorded_exactly_once(seen):
    counts = collections.Counter(seen["results"])
    assert len(counts) == 8 and set(counts.values()) == {1}, counts


def test_only_trials_on_the_dead_executor_ran_again(seen):
    dead = int(seen["runs"]["2"][0])
    for name, jvms in seen["runs"].items():
        if len(jvms) > 1:  # ran again: its first run was on the dead executor
            assert int(jvms[0]) == dead, (name, jvms)
    rerun = {name for name, jvms in seen["runs"].items() if len(jvms) > 1}
    assert "2" in rerun and len(rerun) <= 2, seen["runs"]  # the killer and its executor neighbour
