"""What a session offers trials, on the shared local[2] session (cluster cases: test_cluster)."""

from __future__ import annotations

import shutil
import time

import pytest

from sparkexp import experiment
from sparkexp.errors import ConfigError
from sparkexp.runner.resources import (
    inspect_session,
    memory_mib,
    parse_memory,
    plan_trials,
)

HAS_NVIDIA = shutil.which("nvidia-smi") is not None


def test_memory_strings():
    assert [parse_memory(v) for v in ("512m", "4G", " 2g ", 1024, "300k")] == [
        "512m", "4g", "2g", "1024m", "300k"]
    assert memory_mib("4g") == 4096 and memory_mib("1t") == 1024 * 1024
    for bad in ("4gb", "-1", "lots", "", None, 1.5, True, "0m"):
        with pytest.raises(ConfigError, match="like '512m' or '4g'"):
            parse_memory(bad)


def test_inspect_local_session(spark):
    info = inspect_session(spark)
    assert info.mode == "local" and info.master == "local[2]"
    assert info.executors == 1 and info.slots == 2 and info.executor_memory == "1g"
    assert info.summary().startswith("local[2]: 1 executor(s) x 2 cores, 1g")


def test_plan_defaults_to_the_slots(spark):
    plan = plan_trials(spark)
    assert plan.max_parallel == 2 and not plan.use_profile and not plan.local_gpus


def test_plan_warns_above_the_slots(spark, caplog):
    with caplog.at_level("WARNING", logger="sparkexp"):
        plan = plan_trials(spark, max_parallel=5)
    assert plan.max_parallel == 2  # local mode: capped to what the driver can run at once
    assert "max_parallel=5" in caplog.text


@pytest.mark.skipif(HAS_NVIDIA, reason="this machine has GPUs")
def test_gpus_per_trial_without_gpus_fails_before_starting(spark, root):
    started = time.monotonic()
    with pytest.raises(ConfigError, match="gpus_per_trial=1 but this local.2. session has no GPUs"):
        experiment.grid_search(spark, lambda a: a, {"a": [1]}, gpus_per_trial=1, root=root)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("kwargs, message", [
    ({"gpus_per_trial": -1}, "gpus_per_trial must be a whole number >= 0, got -1"),
    ({"cpus_per_trial": 0}, "cpus_per_trial must be a positive whole number, got 0"),
    ({"cpus_per_trial": 3}, "cpus_per_trial=3 but this local[2] session has 2 cores"),
])
def test_bad_trial_resources(spark, root, kwargs, message):
    with pytest.raises(ConfigError) as info:
        experiment.grid_search(spark, lambda a: a, {"a": [1]}, root=root, **kwargs)
    assert message in str(info.value)


def sleepy(i):
    import time

    start = time.time()
    time.sleep(0.3)
    return {"m": i, "t0": start, "t1": time.time()}


def test_cpus_per_trial_limits_parallel_trials(spark, root):
    res = experiment.grid_search(spark, sleepy, {"i": [0, 1, 2]}, cpus_per_trial=2, metric="m",
                                 root=root)
    outs = [t.outputs for t in res.trials]
    assert [t.status for t in res.trials] == ["complete"] * 3
    for a in outs:
        for b in outs:
            assert a is b or not (a["t0"] < b["t1"] and b["t0"] < a["t1"])
    assert "2 CPU(s)" in res.manifest["resources"] and "max_parallel=1" in res.manifest["resources"]
