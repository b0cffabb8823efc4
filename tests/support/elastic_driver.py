"""A driver for the elastic-slot tests, run in its own process against the standalone cluster.

Usage: ``python elastic_driver.py static MASTER_URL ROOT MARKS`` or
``python elastic_driver.py dynamic MASTER_URL ROOT MARKS``. No web UI address is given: sparkexp
must find the master's (on a non-default port) by itself.

Trials are paced: each sleeps ``pace`` seconds until the test writes ``MARKS/<scenario>.stop``,
then returns at once; each writes ``MARKS/<scenario>/<executor JVM pid>`` so the test sees where
trials run. The driver prints ``EVENT <scenario>`` when an experiment starts, and at the end one
line ``RESULT: {json}`` with every trial and the executors it saw (id -> first/last seen).

* ``static``: ``late`` (the test adds a worker 15 s after it starts), ``kill`` (the test kills a
  worker mid-experiment and starts it again), ``shared`` (two experiments at once in one
  application, FAIR pools).
* ``dynamic``: dynamic allocation with ``max_parallel=3``: executors come for the slot tasks and
  go when fewer trials remain (trial 0 runs until the executors went down to one).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

import sparkexp
from sparkexp import experiment
from sparkexp.runner.resources import registered_executors

QUIET = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"}


def paced(i: int, scenario: str, marks: str, pace: float) -> dict[str, Any]:
    """Sleep ``pace`` s (until the scenario's stop mark exists); record this executor's JVM."""
    import os
    import time

    pid, jvm = os.getpid(), None
    for _ in range(6):  # python worker -> pyspark daemon -> executor JVM
        with open(f"/proc/{pid}/stat") as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
        if pid <= 1:
            break  # orphaned: its executor JVM was just killed
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if f.read().split(b"\0")[0].endswith(b"java"):
                jvm = pid
                break
    os.makedirs(os.path.join(marks, scenario), exist_ok=True)
    open(os.path.join(marks, scenario, str(jvm) if jvm else "orphan"), "a").close()
    started = time.time()
    stop = os.path.join(marks, f"{scenario}.stop")
    while time.time() - started < pace and not os.path.exists(stop):
        time.sleep(0.05)
    return {"metric": float(i), "jvm": jvm, "t0": started, "t1": time.time()}


def dynamic_trial(i: int, marks: str) -> dict[str, Any]:
    """Trial 0 runs until the executors went down to one (or 90 s); the others 1.5 s."""
    return paced(i, "dynamic", marks, 90.0 if i == 0 else 1.5)


class Executors:
    """Samples the registered executors every 0.2 s: id -> [first seen, last seen]."""

    def __init__(self, sc: Any) -> None:
        self.sc = sc
        self.seen: dict[str, list[float]] = {}
        self.counts: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            now = time.time()
            ids = [e["id"] for e in registered_executors(self.sc)]
            for e in ids:
                self.seen.setdefault(e, [now, now])[1] = now
            self.counts.append((now, len(ids)))

    def close(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(5)
        return {"seen": self.seen, "counts": self.counts}


def trials(res: Any) -> list[dict[str, Any]]:
    return [{"i": t.params["i"], "status": t.status, "error": t.error, "attempt": t.attempt,
             "executor": t.executor, "started": t.started, "finished": t.finished,
             **{k: v for k, v in t.outputs.items() if k != "metric"}} for t in res.trials]


def run(spark: Any, scenario: str, root: str, marks: str, n: int, pace: float,
        fn: Any = paced) -> dict[str, Any]:
    """Run a grid of ``n`` paced trials (``fn(i, marks)`` when given another function)."""
    print(f"EVENT {scenario} {time.time()}", flush=True)
    space: dict[str, list[Any]] = {"i": list(range(n)), "marks": [marks]}
    if fn is paced:
        space.update(scenario=[scenario], pace=[pace])
    res = experiment.grid_search(spark, fn, space, metric="metric", root=root, name=scenario,
                                 progress=False, echo_output=False)
    with open(os.path.join(res.path, "journal.jsonl")) as f:
        events = [json.loads(line) for line in f]
    return {"trials": trials(res), "results": [e["id"] for e in events if e["e"] == "result"],
            "starts": [[e["id"], e.get("executor"), e["t"]] for e in events if e["e"] == "start"]}


def static(master: str, root: str, marks: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    spark = sparkexp.session(master, executor_memory="512m", executor_cores=2,
                             app_name="sparkexp-elastic",
                             **{"spark.scheduler.mode": "FAIR", **QUIET})
    spark.sparkContext.setLogLevel("ERROR")
    watch = Executors(spark.sparkContext)
    out["late"] = run(spark, "late", root, marks, 300, 1.0)
    out["kill"] = run(spark, "kill", root, marks, 300, 1.0)
    shared: dict[str, Any] = {}

    def second() -> None:
        time.sleep(1.5)
        shared["b"] = run(spark, "shared_b", root, marks, 10, 1.0)

    thread = threading.Thread(target=second)
    thread.start()
    shared["a"] = run(spark, "shared_a", root, marks, 32, 1.0)  # ~8 s alone on 4 slots
    thread.join()
    out["shared"] = shared
    pools = spark.sparkContext._jsc.sc().getAllPools()
    out["pools"] = sorted(str(pools.apply(i).name()) for i in range(pools.size()))
    out["executors"] = watch.close()
    spark.stop()
    return out


def dynamic(master: str, root: str, marks: str) -> dict[str, Any]:
    spark = sparkexp.session(master, executor_memory="512m", executor_cores=1, max_parallel=3,
                             app_name="sparkexp-dynamic", **{
                                 "spark.dynamicAllocation.enabled": "true",
                                 "spark.dynamicAllocation.shuffleTracking.enabled": "true",
                                 "spark.dynamicAllocation.executorIdleTimeout": "2s",
                                 "spark.dynamicAllocation.schedulerBacklogTimeout": "1s",
                                 **QUIET})
    spark.sparkContext.setLogLevel("ERROR")
    watch = Executors(spark.sparkContext)
    stop = os.path.join(marks, "dynamic.stop")

    def release_when_down() -> None:  # trial 0 runs until the executors went down to one
        peak = 0
        while not os.path.exists(stop):
            if watch.counts:
                count = watch.counts[-1][1]
                peak = max(peak, count)
                if peak >= 2 and count == 1:
                    open(stop, "w").close()
            time.sleep(0.2)

    threading.Thread(target=release_when_down, daemon=True).start()
    out = run(spark, "dynamic", root, marks, 10, 0.0, fn=dynamic_trial)
    out.update(executors=watch.close(), released=os.path.exists(stop))
    spark.stop()
    return out


def main(argv: list[str]) -> None:
    scenario, master, root, marks = argv[:4]
    out = static(master, root, marks) if scenario == "static" else dynamic(master, root, marks)
    print("RESULT: " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
