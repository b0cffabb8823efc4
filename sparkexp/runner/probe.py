"""A tiny job on the executors, under a deadline: their Python and whether it imports sparkexp.

What ``sparkexp doctor`` (:mod:`sparkexp.runner.doctor`) runs on a session: one task per slot
(at most 8), an RDD job in its own job group or on Spark Connect a DataFrame job with its own
tag, cancelled when it cannot finish in time.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from sparkexp.runner.cluster import ClusterInfo

__all__ = ["probe_problems"]


def _probe_executor(_: Any) -> Any:
    import importlib.util
    import socket
    import sys

    ok = importlib.util.find_spec("sparkexp") is not None
    yield {"python": sys.executable, "version": sys.version.split()[0], "sparkexp": ok,
           "host": socket.gethostname()}


def _probe_arrow(batches: Any) -> Any:
    """:func:`_probe_executor` as a ``mapInArrow`` function (the DataFrame probe job)."""
    import pyarrow as pa

    for _batch in batches:
        pass
    for found in _probe_executor(None):
        yield pa.RecordBatch.from_pylist([found])


def _start_probe(spark: Any, n: int, group: str,
                 outcome: dict[str, Any]) -> tuple[threading.Thread, Callable[[], Any]]:
    """Start the probe job on ``n`` tasks in a thread; return the thread and what cancels it.

    An RDD job in job group ``group``, or on Spark Connect a DataFrame job tagged ``group``
    (a Connect client has no SparkContext); the rows found, or the error, go to ``outcome``.
    """
    from sparkexp.runner.connect import is_connect

    if is_connect(spark):
        def job() -> None:
            try:
                spark.addTag(group)  # tags belong to this thread's operations
                schema = "python string, version string, sparkexp boolean, host string"
                rows = spark.range(n, numPartitions=n).mapInArrow(_probe_arrow, schema).collect()
                outcome["found"] = [row.asDict() for row in rows]
            except Exception as exc:  # noqa: BLE001 - any failure here is what the doctor reports
                outcome["error"] = exc
            finally:
                with contextlib.suppress(Exception):
                    spark.removeTag(group)

        thread = threading.Thread(target=job, name="sparkexp-doctor-probe", daemon=True)
        thread.start()
        return thread, lambda: spark.interruptTag(group)
    from pyspark import InheritableThread

    sc = getattr(spark, "sparkContext", spark)

    def rdd_job() -> None:
        try:
            sc.setJobGroup(group, "sparkexp doctor: probing executors", True)
            outcome["found"] = sc.parallelize(range(n), n).mapPartitions(_probe_executor).collect()
        except Exception as exc:  # noqa: BLE001 - any failure here is what the doctor reports
            outcome["error"] = exc

    rdd_thread = InheritableThread(target=rdd_job, name="sparkexp-doctor-probe", daemon=True)
    rdd_thread.start()
    return rdd_thread, lambda: sc.cancelJobGroup(group)


def probe_problems(spark: Any, info: ClusterInfo, lines: list[str], version: str,
                    executable: str, hosts: set[str], *, deadline: float) -> list[str]:
    """Run one tiny task per slot (at most 8) with a deadline; cancel it when time runs out."""
    n = max(1, min(info.slots, 8))
    group = f"sparkexp-doctor-{os.getpid()}-{id(lines):x}"
    outcome: dict[str, Any] = {}
    thread, cancel = _start_probe(spark, n, group, outcome)
    thread.join(max(0.5, deadline - time.monotonic()))
    if thread.is_alive():
        with contextlib.suppress(Exception):
            cancel()
        registered = ("" if "executors are not listed" in " ".join(info.notes)
                      else f" ({info.executors} executor(s) registered)")
        return [f"a tiny job on the executors did not finish in time and was cancelled"
                f"{registered}: is the cluster busy with other "
                "applications, or can its executors not start (see the workers above)?"]
    if "error" in outcome:
        text = str(outcome["error"]).strip().splitlines()
        return [f"a tiny job on the executors failed: {text[0] if text else type(outcome['error']).__name__}"]
    found = outcome["found"]
    problems: list[str] = []
    hosts.update(f["host"] for f in found)
    pythons = sorted({f"{f['python']} ({f['version']})" for f in found})
    lines.append("executor Python: " + ", ".join(pythons) + f"; driver Python: {executable} ({version})")
    versions = {f["version"].rsplit(".", 1)[0] for f in found}
    if versions != {version.rsplit(".", 1)[0]}:
        problems.append(f"executors run Python {', '.join(sorted(versions))} but the driver runs "
                        f"{version}: set PYSPARK_PYTHON (or spark.pyspark.python) to a matching "
                        "interpreter; functions pickled by one version may not load in another")
    if not all(f["sparkexp"] for f in found):
        missing = sorted({f["host"] for f in found if not f["sparkexp"]})
        problems.append(f"sparkexp is not importable by the executors' Python on {', '.join(missing)}: "
                        "install it there or ship it (--py-files / --archives with a packed env)")
    return problems
