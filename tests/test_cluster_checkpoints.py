"""An executor dies mid-trial on a real standalone cluster (master + 2 workers): the trial
continues from its last checkpoint on the other executor, it does not start again."""

from __future__ import annotations

from typing import Any

import pytest
from support.cluster_fixture import StandaloneCluster, cluster, run_driver  # noqa: F401 - fixture

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

STEPS = 12


@pytest.fixture(scope="module")
def seen(cluster: StandaloneCluster, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # noqa: F811
    root = str(tmp_path_factory.mktemp("project")) + "/"
    return run_driver(cluster.env(), cluster.master_url, cluster.webui_url, root,
                      script="checkpoint_cluster_driver.py", timeout=300, logs=cluster.logs)


def test_the_killed_trial_continues_from_its_checkpoint_on_another_executor(seen):
    trials = {t["i"]: t for t in seen["trials"]}
    assert [t["status"] for t in seen["trials"]] == ["complete"] * 4, [t["error"] for t in seen["trials"]]
    killer = trials[2]
    (jvm1, start1), (jvm2, start2) = (run.split(":") for run in seen["runs"]["2"])
    assert jvm2 != jvm1 and killer["attempt"] == 2
    assert (int(start1), int(start2)) == (0, 6)  # from the step-5 checkpoint, not from 0
    assert killer["restored"]["step"] == 5
    assert killer["total"] == float(sum(range(STEPS)))  # no step lost, none done twice
    assert killer["steps"] == list(range(STEPS))
    assert killer["checkpoints"] == [9, 10, 11]


def test_trials_on_the_dead_executor_also_continue_and_add_up(seen):
    for t in seen["trials"]:
        assert t["total"] == float(sum(range(STEPS))) and t["steps"] == list(range(STEPS)), t
        starts = [int(run.split(":")[1]) for run in seen["runs"][str(t["i"])]]
        assert starts[0] == 0 and all(s > 0 for s in starts[1:]), starts  # re-runs resume
