"""A real Spark standalone cluster for tests: one master and two workers on 127.0.0.1.

Started from the installed pyspark (``bin/spark-class``), each daemon in its own process with
free ports and temporary work directories. The master's web UI listens on a free port, never
8080 (as on shared clusters: sparkexp must find it by asking the master). Each worker advertises
2 fake GPUs through ``conf/gpu-discovery.sh`` (worker 0: ids 0,1; worker 1: ids 2,3, so ids are
unique on this one host). The fixture waits until the master reports both workers alive and
stops every process it started, even when a test or the start-up fails.

Elastic tests start with fewer workers (``StandaloneCluster(base, start_workers=1)``), add one
later (:meth:`StandaloneCluster.start_worker`) and kill one with its executors
(:meth:`StandaloneCluster.kill_worker`).

Use it from a test module::

    from support.cluster_fixture import cluster  # noqa: F401  (the fixture)

    @pytest.mark.cluster
    def test_x(cluster):
        cluster.master_url  # "spark://127.0.0.1:<port>"
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = ["StandaloneCluster", "cluster", "free_port", "run_driver", "overlap", "REPO", "GPU_SCRIPT"]

REPO = Path(__file__).resolve().parents[2]
GPU_SCRIPT = REPO / "conf" / "gpu-discovery.sh"
#: per worker: cores, memory, fake GPU ids
WORKERS = (("2", "1g", "0,1"), ("2", "1g", "2,3"))


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spark_class() -> str:
    import pyspark

    return str(Path(pyspark.__file__).parent / "bin" / "spark-class")


@dataclass
class StandaloneCluster:
    """Handles of a running standalone cluster (see the module docstring)."""

    base: Path
    #: how many of WORKERS :meth:`start` starts (the others: :meth:`start_worker` later)
    start_workers: int = len(WORKERS)
    master_port: int = field(default_factory=free_port)
    webui_port: int = field(default_factory=free_port)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    #: worker index -> its process (its process group also holds its executors)
    workers: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    @property
    def webui_url(self) -> str:
        return f"http://127.0.0.1:{self.webui_port}"

    def state(self) -> dict[str, Any]:
        """The master's ``/json/`` state (workers, apps)."""
        with urllib.request.urlopen(self.webui_url + "/json/", timeout=10) as resp:
            return dict(json.load(resp))

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SPARK_LOCAL_IP="127.0.0.1",
            SPARK_DAEMON_MEMORY="256m",
            PYSPARK_PYTHON=sys.executable,
            PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]),
        )
        env.pop("SPARK_HOME", None)
        env.update(extra)
        return env

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.base / f"{name}.log", "ab")  # noqa: SIM115 - owned by the process
        proc = subprocess.Popen([_spark_class(), *args], stdout=log, stderr=subprocess.STDOUT,
                                env=env, cwd=self.base, start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc

    def start(self, timeout: float = 180.0) -> None:
        """Start the master and the first ``start_workers`` workers; wait until they are alive."""
        self._spawn("master", ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                               "--port", str(self.master_port),
                               "--webui-port", str(self.webui_port)], self.env())
        for i in range(self.start_workers):
            self.start_worker(i, wait=False)
        self.wait_workers(self.start_workers, timeout)

    def start_worker(self, i: int, *, wait: bool = True, timeout: float = 120.0) -> None:
        """Start worker ``i`` of WORKERS (again, after :meth:`kill_worker`); wait until alive."""
        cores, memory, gpus = WORKERS[i]
        work = self.base / f"worker{i}"
        work.mkdir(exist_ok=True)
        props = self.base / f"worker{i}.conf"
        props.write_text(
            "spark.worker.resource.gpu.amount 2\n"
            f"spark.worker.resource.gpu.discoveryScript {GPU_SCRIPT}\n"
            "spark.ui.showConsoleProgress false\n"
        )
        self.workers[i] = self._spawn(f"worker{i}", [
            "org.apache.spark.deploy.worker.Worker", self.master_url, "--host", "127.0.0.1",
            "--cores", cores, "--memory", memory, "--webui-port", str(free_port()),
            "--work-dir", str(work), "--properties-file", str(props),
        ], self.env(SPARKEXP_FAKE_GPUS=gpus, SPARK_LOCAL_DIRS=str(work)))
        if wait:
            self.wait_workers(len(self.alive_worker_procs()), timeout)

    def alive_worker_procs(self) -> list[int]:
        """Indexes of the workers whose process runs."""
        return [i for i, proc in self.workers.items() if proc.poll() is None]

    def wait_workers(self, n: int, timeout: float = 120.0) -> None:
        """Wait until the master reports ``n`` workers alive."""
        deadline = time.monotonic() + timeout
        while True:
            if self.procs[0].poll() is not None:
                raise RuntimeError(f"the master exited with {self.procs[0].returncode}: {self.logs()}")
            with contextlib.suppress(OSError, ValueError):
                if self.state().get("aliveworkers") == n:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{n} workers were not alive after {timeout:.0f} s: {self.logs()}")
            time.sleep(0.25)

    def kill_worker(self, i: int) -> None:
        """SIGKILL worker ``i`` and the executors it started, as a lost node would go."""
        proc = self.workers[i]
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def logs(self) -> str:
        out = []
        for path in sorted(self.base.glob("*.log")):
            out.append(f"--- {path.name}\n" + path.read_text(errors="replace")[-3000:])
        return "\n".join(out)

    def stop(self) -> None:
        """Terminate every daemon (and the executors they started), then kill what is left."""
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.procs:
            # the process group also holds executor JVMs the workers forked
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    """A standalone master + 2 workers (2 cores, 1g, 2 fake GPUs each) for one test module."""
    handle = StandaloneCluster(tmp_path_factory.mktemp("cluster"))
    try:
        handle.start()
        yield handle
    finally:
        handle.stop()


def run_driver(env: dict[str, str], *args: str, script: str = "cluster_driver.py",
               timeout: float = 240, logs: Callable[[], str] | None = None) -> dict[str, Any]:
    """Run ``script`` (in tests/support/) with ``args`` in its own process; its ``RESULT`` as a dict.

    If it prints none, fail with its output and ``logs()`` (e.g. :meth:`StandaloneCluster.logs`).
    """
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "support" / script), *args],
                          env=env, capture_output=True, text=True, timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT: "):
            return dict(json.loads(line[len("RESULT: "):]))
    raise AssertionError(f"driver failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
                         + (f"\n{logs()}" if logs is not None else ""))


def overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two trials' ``t0``..``t1`` intervals overlap."""
    return a["t0"] < b["t1"] and b["t0"] < a["t1"]
