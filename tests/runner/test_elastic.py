"""Slot tasks that follow a real standalone cluster (master + workers on 127.0.0.1, web UI on a
free port that sparkexp is never told): a worker joining late, a worker killed and started
again, dynamic allocation, two experiments sharing one application, and ``sparkexp doctor``
answering in bounded time about executors too big for every worker (an experiment asking for
them fails before any trial: tests/test_cluster.py).

The experiments run in their own process (``support/elastic_driver.py``); this module plays the
cluster's operator: it starts and kills workers while they run, and tells paced trials when to
finish (``MARKS/<scenario>.stop``) once it has seen what it waits for.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.cluster_fixture import REPO, StandaloneCluster

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

DRIVER = REPO / "tests" / "support" / "elastic_driver.py"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    """A master with one of its two workers running (the other joins during the tests)."""
    handle = StandaloneCluster(tmp_path_factory.mktemp("cluster"), start_workers=1)
    try:
        handle.start()
        yield handle
    finally:
        handle.stop()


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def jvms(marks: Path, scenario: str) -> set[str]:
    """Executor JVMs the scenario's trials ran in so far."""
    folder = marks / scenario
    return {n for n in os.listdir(folder) if n.isdigit()} if folder.is_dir() else set()


def drive(cluster: StandaloneCluster, scenario: str, root: Path, marks: Path,
          on_event: Callable[[str], dict[str, float]]) -> dict[str, Any]:
    """Run the driver; call ``on_event`` for each EVENT line; return its RESULT and the times."""
    marks.mkdir(exist_ok=True)
    log = root / f"{scenario}-driver.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, str(DRIVER), scenario, cluster.master_url,
                                 str(root) + "/", str(marks)], env=cluster.env(), text=True,
                                stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        times: dict[str, float] = {}
        result = None
        try:
            for line in proc.stdout:
                if line.startswith("EVENT "):
                    times.update(on_event(line.split()[1]))
                elif line.startswith("RESULT: "):
                    result = json.loads(line[len("RESULT: "):])
            proc.wait(60)
        finally:
            if proc.poll() is None:
                proc.kill()
    if result is None:
        raise AssertionError(f"driver failed ({proc.returncode}):\n{log.read_text()[-6000:]}\n"
                             f"{cluster.logs()}")
    return {**result, "times": times}


@pytest.fixture(scope="module")
def static(cluster: StandaloneCluster, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("static")
    marks = root / "marks"

    def operate(scenario: str) -> dict[str, float]:
        if scenario not in ("late", "kill"):
            return {}
        try:
            return act(scenario)
        finally:  # whatever happened, let the paced trials finish
            (marks / f"{scenario}.stop").touch()

    def act(scenario: str) -> dict[str, float]:
        if scenario == "late":
            time.sleep(15)  # the second worker joins 15 s after the experiment started
            cluster.start_worker(1)
            joined = time.time()
            wait_for(lambda: len(jvms(marks, "late")) >= 2, 90)  # trials on its executor
            time.sleep(3)
            return {"joined": joined}
        wait_for(lambda: len(jvms(marks, "kill")) >= 2, 90)  # trials on both executors
        time.sleep(1)
        before = jvms(marks, "kill")
        cluster.kill_worker(1)
        killed = time.time()
        time.sleep(3)
        cluster.start_worker(1)  # capacity returns
        returned = time.time()
        wait_for(lambda: len(jvms(marks, "kill") - before) >= 1, 90)
        time.sleep(2)
        return {"killed": killed, "returned": returned}

    return drive(cluster, "static", root, marks, operate)


@pytest.fixture(scope="module")
def dynamic(cluster: StandaloneCluster, static: dict[str, Any],
            tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("dynamic")
    return drive(cluster, "dynamic", root, root / "marks", lambda scenario: {})


def most_at_once(trials: list[dict[str, Any]]) -> int:
    return max(sum(1 for o in trials if o["t0"] <= t["t0"] < o["t1"]) for t in trials)


def assert_each_trial_once(run: dict[str, Any]) -> None:
    assert {t["status"] for t in run["trials"]} == {"complete"}, \
        [t["error"] for t in run["trials"] if t["status"] != "complete"][:3]
    counts = Counter(run["results"])
    assert len(counts) == len(run["trials"]) and set(counts.values()) == {1}


def test_doctor_with_executors_too_big_answers_in_bounded_time(cluster, tmp_path):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "sparkexp", "doctor", "--master",
                           cluster.master_url, "--executor-memory", "2g", "--root", str(tmp_path)],
                          env=cluster.env(), capture_output=True, text=True, timeout=120)
    seconds = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert seconds <= 30, (seconds, proc.stdout)
    out = proc.stdout
    # found by asking the master: nobody told it the web UI's port
    assert f"master web UI: http://127.0.0.1:{cluster.webui_port}" in out, out
    assert "one executor asks: spark.executor.memory=2g (2048 MiB)" in out
    assert "offers 1024 MiB, 2 cores, 2 GPUs -> cannot host one: not enough memory" in out
    assert "no worker of " + cluster.master_url + " can start an executor" in out


def test_a_late_worker_runs_trials_within_seconds_of_registering(static):
    late, seen = static["late"], static["executors"]["seen"]
    assert_each_trial_once(late)
    joined = static["times"]["joined"]
    new = [e for e, (first, _last) in seen.items() if first >= joined - 1]
    first_start = min(t for _id, e, t in late["starts"] if e in new)
    # the slot jobs start at the next look (~1 s); the rest is the new executor forking its
    # first Python worker (seconds on a loaded machine)
    assert first_start - min(seen[e][0] for e in new) < 15, (first_start, seen)
    # before it joined, 2 trials at once (one worker); after, all 4 task slots were used
    before = [t for t in late["trials"] if t["t1"] < joined]
    after = [t for t in late["trials"] if t["t0"] > first_start]
    assert most_at_once(before) == 2 and most_at_once(after) == 4


def test_a_killed_worker_loses_no_trial_and_its_slots_return(static):
    kill, seen, times = static["kill"], static["executors"]["seen"], static["times"]
    assert_each_trial_once(kill)
    rerun = [t for t in kill["trials"] if t["attempt"] >= 2]
    assert 1 <= len(rerun) <= 2, rerun  # the trials running on the dead executor
    # the executor that was running when its worker was killed, and was not seen again
    dead = {e for e, (first, last) in seen.items()
            if first < times["killed"] <= last + 2 and last < times["killed"] + 10}
    assert len(dead) == 1, (dead, seen, times)
    assert all(t["executor"] not in dead for t in rerun)
    replacement = {e for e, (first, _last) in seen.items() if first >= times["returned"]}
    assert any(e in replacement for _id, e, _t in kill["starts"])


def test_two_experiments_share_the_application(static):
    a, b = static["shared"]["a"], static["shared"]["b"]
    for run in (a, b):
        assert_each_trial_once(run)
    # each in its own FAIR pool
    assert sum(1 for p in static["pools"] if p.startswith("sparkexp-shared_")) == 2, static["pools"]
    # interleaved: the second did not wait for the first to end (the first gave up slots at
    # trial boundaries), both ran at once, and the first went on while the second ran
    b_first, b_last = min(t["t0"] for t in b["trials"]), max(t["t1"] for t in b["trials"])
    assert b_first < max(t["t0"] for t in a["trials"])
    assert any(x["t0"] < y["t1"] and y["t0"] < x["t1"]
               for x, y in itertools.product(a["trials"], b["trials"]))
    assert any(b_first < t["t0"] < b_last for t in a["trials"])
    assert most_at_once(a["trials"] + b["trials"]) <= 4


def test_dynamic_allocation_scales_up_to_max_parallel_and_back_down(dynamic):
    assert_each_trial_once(dynamic)
    counts = [c for _t, c in dynamic["executors"]["counts"]]
    assert max(counts) == 3, counts  # 3 one-core executors for max_parallel=3, never more
    peak = counts.index(3)
    assert 1 in counts[peak:] and dynamic["released"], counts  # while trial 0 still ran
    assert most_at_once(dynamic["trials"]) == 3
