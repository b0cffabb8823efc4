"""GPUs for trials: the driver's pool in local mode, and a workstation run with 2 fake GPUs."""

from __future__ import annotations

import itertools
import os
import subprocess

import pytest
from support.cluster_fixture import GPU_SCRIPT, REPO, overlap, run_driver

from sparkexp.errors import ConfigError
from sparkexp.runner.gpus import GpuPool, pool_for, run_discovery_script
from sparkexp.runner.resources import TrialResources


def test_pool_hands_out_disjoint_sets_and_takes_them_back():
    pool = GpuPool(["0", "1", "2", "3"], per_trial=2)
    assert pool.capacity == 2
    assert pool.message("a") == {"gpus": ["0", "1"]}
    assert pool.message("a") == {"gpus": ["0", "1"]}  # the same trial keeps its set
    assert pool.acquire("b") == ["2", "3"]
    assert pool.acquire("c") is None
    pool.release("a")
    pool.release("a")
    assert pool.acquire("c") == ["0", "1"] and pool.held() == {"b": ["2", "3"], "c": ["0", "1"]}


def test_no_pool_without_local_gpus():
    assert pool_for(None).message("t") == {}
    cluster_plan = TrialResources(max_parallel=4, gpus_per_trial=1)  # Spark assigns GPUs
    assert pool_for(cluster_plan).message("t") == {}
    local_plan = TrialResources(max_parallel=2, gpus_per_trial=1, local_gpus=("0", "1"))
    assert pool_for(local_plan).message("t") == {"gpus": ["0"]}


def test_discovery_script(monkeypatch, tmp_path):
    monkeypatch.setenv("SPARKEXP_FAKE_GPUS", "0,1")
    assert run_discovery_script(str(GPU_SCRIPT)) == ["0", "1"]
    monkeypatch.delenv("SPARKEXP_FAKE_GPUS")
    if not any(os.access(os.path.join(p, "nvidia-smi"), os.X_OK)
               for p in os.environ.get("PATH", "").split(os.pathsep)):
        assert run_discovery_script(str(GPU_SCRIPT)) == []
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/sh\necho no json\n")
    bad.chmod(0o755)
    with pytest.raises(ConfigError, match="bad.sh' failed or did not print"):
        run_discovery_script(str(bad))
    with pytest.raises(ConfigError, match="does not exist or is not executable"):
        run_discovery_script(str(tmp_path / "missing.sh"))


@pytest.mark.slow
def test_workstation_with_two_gpus_runs_two_single_gpu_trials_at_once(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]))
    seen = run_driver(env, "local", str(tmp_path) + "/")
    assert seen["driver_gpus"] == ["0", "1"]

    one = seen["one_gpu"]
    assert [t["status"] for t in one] == ["complete"] * 4, [t["error"] for t in one]
    for t in one:
        assert len(t["gpus"]) == 1 and t["cuda"] == t["gpus"][0]
    pairs = [(a, b) for a, b in itertools.combinations(one, 2) if overlap(a, b)]
    assert pairs, "two single-GPU trials should run at once on two GPUs"
    for a, b in pairs:
        assert a["gpus"] != b["gpus"], (a, b)

    two = seen["two_gpus"]  # max_parallel=2 capped to 1: only one set of two GPUs
    assert all(t["gpus"] == ["0", "1"] and t["cuda"] == "0,1" for t in two)
    assert not overlap(*two)

    assert all(t["gpus"] == [] and t["cuda"] == "" for t in seen["no_gpus"])
    assert "gpus_per_trial=3 but this machine has 2 GPUs (0, 1)" in seen["too_many_gpus"]["error"]


def test_the_example_script_is_executable():
    out = subprocess.run([str(GPU_SCRIPT)], capture_output=True, text=True, check=True,
                         env=dict(os.environ, SPARKEXP_FAKE_GPUS="3"))
    assert out.stdout.strip() == '{"name": "gpu", "addresses": ["3"]}'
