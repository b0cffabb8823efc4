"""Load: ten thousand trials through one driver, and two experiments at once in one project."""

from __future__ import annotations

import collections
import json
import os
import threading
import time
import tracemalloc

import pytest

from sparkexp import experiment


def rss_mib() -> float:
    """This (driver) process's resident set size, from /proc."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def trivial(x):
    return x % 97


@pytest.mark.slow
def test_ten_thousand_trials_are_all_recorded_with_bounded_driver_memory(spark, root):
    n = 10_000
    experiment.grid_search(spark, trivial, {"x": [0, 1]}, root=root, name="warmup", progress=False)
    rss_before = rss_mib()
    tracemalloc.start()
    started = time.monotonic()
    try:
        res = experiment.grid_search(spark, trivial, {"x": list(range(n))}, root=root, name="load",
                                     progress=False, echo_output=False)
        traced, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    seconds = time.monotonic() - started
    rss_growth = rss_mib() - rss_before
    print(f"\n{n} trials in {seconds:.1f} s ({n / seconds:.0f}/s); driver Python heap: "
          f"{traced / 2**20:.1f} MiB held after, {peak / 2**20:.1f} MiB peak; "
          f"driver RSS growth {rss_growth:.1f} MiB")
    assert len(res.trials) == n and all(t.status == "complete" for t in res.trials)
    results = collections.Counter()
    with open(os.path.join(res.path, "journal.jsonl")) as f:
        for line in f:
            event = json.loads(line)
            if event["e"] == "result":
                results[event["id"]] += 1
    assert len(results) == n and set(results.values()) == {1}
    import pyarrow.parquet as pq

    table = pq.read_table(os.path.join(res.path, "results.parquet"))
    assert table.num_rows == n
    assert sorted(table.column("param.x").to_pylist()) == list(range(n))
    # ~1 KiB of Python objects per trial is generous (the result keeps every Trial)
    assert peak < 40 * 2**20, f"peak driver heap {peak / 2**20:.1f} MiB"
    assert rss_growth < 300, f"driver RSS grew {rss_growth:.0f} MiB"


def tagged(run, i):
    time.sleep(0.05)
    return {"metric": float(i), "run": run}


def test_two_experiments_at_once_in_one_project_do_not_interfere(spark, root):
    results: dict[str, object] = {}

    def run(tag: str) -> None:
        try:
            results[tag] = experiment.grid_search(spark, tagged, {"run": [tag], "i": list(range(8))},
                                                  root=root, name="shared", max_parallel=1,
                                                  progress=False)
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[tag] = exc

    threads = [threading.Thread(target=run, args=(tag,)) for tag in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    a, b = results["a"], results["b"]
    assert not isinstance(a, BaseException) and not isinstance(b, BaseException), results
    assert {a.path, b.path} == {root + "Experiments/shared_1", root + "Experiments/shared_2"}
    for tag, res in (("a", a), ("b", b)):
        assert [t.status for t in res.trials] == ["complete"] * 8
        assert {t.outputs["run"] for t in res.trials} == {tag}
        assert all(t.logdir.startswith(res.path + "/") for t in res.trials)
        on_disk = experiment.load(res.path)
        assert [t.params for t in on_disk.trials] == [{"run": tag, "i": i} for i in range(8)]
        with open(os.path.join(res.path, "journal.jsonl")) as f:
            events = [json.loads(line) for line in f]
        assert {e["trial"]["params"]["run"] for e in events if e["e"] == "result"} == {tag}
        assert sum(e["e"] == "result" for e in events) == 8
