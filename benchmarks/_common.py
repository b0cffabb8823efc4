"""Shared plumbing of the benchmark scripts: the machine line, a Spark session, medians.

Only driver-side helpers live here; trial functions stay in each script (run as ``__main__``,
so Spark pickles them by value and executors never need to import this module).
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["REPO", "machine", "loadavg", "session", "median_of", "rss_mib", "peak_rss_mib", "reset_peak_rss",
           "standalone_cluster"]

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def loadavg() -> str:
    """The 1/5/15-minute load averages, as ``uptime`` shows them."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _java_version() -> str:
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=20).stderr
        return out.splitlines()[0].strip() if out else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine() -> str:
    """One line describing where the figures were taken (cores, memory, versions, load)."""
    try:
        import pyspark

        spark_version = pyspark.__version__
    except ImportError:  # pragma: no cover
        spark_version = "-"
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return (f"nproc={os.cpu_count()} mem={mem} python={platform.python_version()} "
            f"pyspark={spark_version} java=({_java_version()}) load={loadavg()}")


def session(master: str = "local[2]", app: str = "sparkexp-bench", **conf: str) -> Any:
    """A quiet SparkSession (no UI, no console progress)."""
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master(master).appName(app)
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false"))
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def median_of(repeat: int, fn: Callable[[], float]) -> tuple[float, list[float]]:
    """Run ``fn`` ``repeat`` times; its median and every value."""
    values = [fn() for _ in range(repeat)]
    return statistics.median(values), values


def rss_mib() -> float:
    """Current resident set size of this process, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    """Peak resident set size of this process since start or :func:`reset_peak_rss`, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> None:
    """Start a new peak-RSS measurement (Linux: ``echo 5 > /proc/self/clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


@contextmanager
def standalone_cluster(start_workers: int = 2) -> Iterator[Any]:
    """The test suite's standalone master + 2 workers (``tests/support/cluster_fixture.py``), stopped
    on exit whatever happens; ``start_workers=1`` leaves the second for ``start_worker(1)``."""
    import tempfile

    sys.path.insert(0, str(REPO / "tests"))
    from support.cluster_fixture import StandaloneCluster

    base = Path(tempfile.mkdtemp(prefix="sparkexp-bench-cluster-"))
    handle = StandaloneCluster(base, start_workers=start_workers)
    t0 = time.perf_counter()
    try:
        handle.start()
        print(f"# standalone cluster {handle.master_url} up in {time.perf_counter() - t0:.1f} s "
              f"({start_workers} of 2 workers x 2 cores)", flush=True)
        yield handle
    finally:
        handle.stop()
        shutil.rmtree(base, ignore_errors=True)
