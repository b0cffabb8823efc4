"""Real faults in real Spark processes (local mode): out of memory, killed workers, missing modules.

Every fault here really happens: a trial exhausts an address-space limit it set on its own
Python worker, SIGKILLs its own worker as the kernel's OOM killer would, or needs a module the
executors cannot import. The tests check what the user sees (each trial's status and error)
and what is on disk (exactly one ``result`` event per trial in the journal).
"""

from __future__ import annotations

import collections
import json
import os
import signal
import sys
import textwrap
import time

import pytest

from sparkexp import experiment
from sparkexp.errors import ExperimentAborted


def journal(path: str) -> list[dict]:
    with open(os.path.join(path, "journal.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def results_per_trial(path: str) -> collections.Counter[str]:
    """How many ``result`` events each trial id has in the journal."""
    return collections.Counter(e["id"] for e in journal(path) if e["e"] == "result")


def exhausts_memory(i: int) -> float:
    """Trial 1 allocates past an address-space limit it sets on its own Python worker."""
    import resource

    if i == 1:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        with open("/proc/self/statm") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (size + 256 * 2**20, hard))
        try:
            block = bytearray(2**30)  # 1 GiB > the 256 MiB left: MemoryError
            return float(len(block))
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    time.sleep(0.5)
    return float(i)


def test_memory_error_is_that_trials_error_and_the_experiment_continues(spark, root):
    res = experiment.grid_search(spark, exhausts_memory, {"i": [0, 1, 2, 3]}, root=root,
                                 max_parallel=2, name="oom")
    statuses = {t.params["i"]: t.status for t in res.trials}
    assert statuses == {0: "complete", 1: "error", 2: "complete", 3: "complete"}
    (failed,) = [t for t in res.trials if t.status == "error"]
    assert "MemoryError" in failed.error and "exhausts_memory" in failed.error
    assert failed.attempt == 1  # a plain exception: no retries unless asked
    assert set(results_per_trial(res.path).values()) == {1}


def killed_by_the_os(i: int, marks: str, die_after: float = 0.3, work: float = 0.5,
                     deadly: tuple[int, ...] = (1,)) -> float:
    """Trials in ``deadly`` die like an OOM-killed process (SIGKILL of their own Python worker)
    every time they run; the others work for ``work`` seconds. Each start leaves a mark file."""
    with open(os.path.join(marks, f"{i}-{os.getpid()}-{time.time()}"), "w"):
        pass
    if i in deadly:
        time.sleep(die_after)
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(work)
    return float(i)


def starts(marks) -> collections.Counter[int]:
    return collections.Counter(int(m.split("-")[0]) for m in os.listdir(marks))


def test_trial_killed_by_the_os_is_recorded_after_retries_and_the_experiment_continues(spark, root, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    res = experiment.grid_search(spark, killed_by_the_os, {"i": [0, 1, 2], "marks": [str(marks)]},
                                 root=root, max_parallel=1, name="killed")
    by_i = {t.params["i"]: t for t in res.trials}
    killed = by_i.pop(1)
    assert killed.status == "error" and killed.attempt == 2
    assert "died 2 times" in killed.error and "killed by the OS (out of memory?)" in killed.error
    assert starts(marks) == {0: 1, 1: 2, 2: 1}  # run twice (max_lost=2), then recorded
    assert [(t.status, t.attempt) for t in by_i.values()] == [("complete", 1), ("complete", 1)]
    assert results_per_trial(res.path) == {t.id: 1 for t in res.trials}


def test_trials_running_beside_a_killed_one_are_not_charged(spark, root, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    # trial 0 works for 10 s; trial 1 dies 1 s into each of its attempts
    res = experiment.grid_search(spark, killed_by_the_os, {"i": [0, 1], "marks": [str(marks)],
                                                           "die_after": [1.0], "work": [10.0]},
                                 root=root, max_parallel=2, name="beside")
    innocent, killed = res.trials
    assert results_per_trial(res.path) == {innocent.id: 1, killed.id: 1}
    assert killed.status == "error" and "died 2 times" in killed.error
    # every loss charged is a real death: the killed trial really ran twice
    assert starts(marks)[1] == 2, f"charged 2 deaths, ran {starts(marks)[1]} time(s)"
    assert (innocent.status, innocent.error) == ("complete", None)
    assert innocent.attempt == 1, f"ran {starts(marks)[0]} times, attempt {innocent.attempt}"


def test_function_from_a_module_executors_cannot_import(spark, root, tmp_path, monkeypatch):
    # a module only the driver can import, as if the user forgot --py-files
    (tmp_path / "unshipped_models.py").write_text(textwrap.dedent("""
        def train(x):
            return x
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    import unshipped_models

    try:
        with pytest.raises(ExperimentAborted) as info:
            experiment.grid_search(spark, unshipped_models.train, {"x": [1, 2]}, root=root,
                                   name="unshipped")
    finally:
        sys.modules.pop("unshipped_models", None)
    message = str(info.value)
    assert "cannot import module 'unshipped_models'" in message
    assert "--py-files" in message


def imports_a_missing_module(x: int) -> int:
    if x == 2:
        import nonexistent_sparkexp_dependency  # noqa: F401
    return x


def test_import_error_inside_the_function_is_that_trials_error(spark, root):
    res = experiment.grid_search(spark, imports_a_missing_module, {"x": [1, 2, 3]}, root=root)
    assert [t.status for t in res.trials] == ["complete", "error", "complete"]
    error = res.trials[1].error
    assert "ModuleNotFoundError" in error and "nonexistent_sparkexp_dependency" in error


def test_two_trials_killed_by_the_os_do_not_abort_the_experiment(spark, root, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    res = experiment.grid_search(spark, killed_by_the_os, {"i": [0, 1, 2, 3], "marks": [str(marks)],
                                                           "deadly": [(1, 2)]},
                                 root=root, max_parallel=1, name="two")
    assert [t.status for t in res.trials] == ["complete", "error", "error", "complete"]
