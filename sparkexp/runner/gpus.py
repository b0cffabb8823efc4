"""GPUs for trials when Spark does not schedule them (local mode).

On a cluster Spark assigns GPU addresses to each task and the worker pins the trial to them.
``local[N]`` does not schedule task GPUs (asking for them there makes tasks wait forever), so on
a workstation sparkexp hands the machine's GPUs to trials itself: the driver takes a set of
``gpus_per_trial`` ids from a :class:`GpuPool` when it dispatches a trial, sends it with the
trial, and puts it back when the trial ends. The machine's GPUs come from the driver's Spark
resources (``spark.driver.resource.gpu.*``), a configured discovery script, or ``nvidia-smi``.

Example:
    >>> pool = GpuPool(["0", "1", "2"], per_trial=1)
    >>> pool.capacity
    3
    >>> pool.acquire("trial_a"), pool.acquire("trial_b")
    (['0'], ['1'])
    >>> pool.release("trial_a")
    >>> pool.acquire("trial_c")
    ['0']
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from sparkexp.errors import ConfigError, SparkexpError

__all__ = ["GpuPool", "gpus_from_conf", "local_gpus", "pool_for", "run_discovery_script"]

#: conf keys whose discovery script tells which GPUs this machine has, in order of preference
DISCOVERY_KEYS = (
    "spark.driver.resource.gpu.discoveryScript",
    "spark.executor.resource.gpu.discoveryScript",
    "spark.worker.resource.gpu.discoveryScript",
)


class GpuPool:
    """Disjoint sets of ``per_trial`` GPU ids, one per running trial.

    Args:
        addresses: The GPU ids the machine may use (e.g. ``["0", "1"]``).
        per_trial: GPUs each trial gets (at least 1).
    """

    def __init__(self, addresses: list[str], *, per_trial: int) -> None:
        if per_trial < 1:
            raise ConfigError(f"gpus per trial for a GPU pool must be at least 1, got {per_trial}")
        self.per_trial = per_trial
        self._free = list(dict.fromkeys(addresses))
        self._held: dict[str, list[str]] = {}

    @property
    def capacity(self) -> int:
        """How many trials can hold GPUs at once."""
        return (len(self._free) + sum(len(v) for v in self._held.values())) // self.per_trial

    def acquire(self, owner: str) -> list[str] | None:
        """Take a free set for ``owner`` (idempotent); None when none is free."""
        if owner in self._held:
            return list(self._held[owner])
        if len(self._free) < self.per_trial:
            return None
        taken, self._free = self._free[: self.per_trial], self._free[self.per_trial :]
        self._held[owner] = taken
        return list(taken)

    def release(self, owner: str) -> None:
        """Give ``owner``'s set back (no-op if it holds none)."""
        taken = self._held.pop(owner, None)
        if taken:
            self._free = sorted(self._free + taken, key=_gpu_order)

    def message(self, owner: str) -> dict[str, Any]:
        """The part of a trial message naming ``owner``'s GPUs (acquired now if needed).

        Raises:
            SparkexpError: no set is free (the runner caps max_parallel, so this is a bug).
        """
        taken = self.acquire(owner)
        if taken is None:
            raise SparkexpError(f"no free GPU set for {owner}: {self.held()} are all taken")
        return {"gpus": taken}

    def held(self) -> dict[str, list[str]]:
        """Owner -> GPU ids currently handed out."""
        return {k: list(v) for k, v in self._held.items()}


def _gpu_order(address: str) -> tuple[int, str]:
    return (int(address), "") if address.isdigit() else (1 << 30, address)


def run_discovery_script(path: str, *, timeout: float = 30.0) -> list[str]:
    """Run a Spark GPU discovery script and return the addresses it prints.

    The script prints ``{"name": "gpu", "addresses": ["0", "1"]}`` (Spark's format).

    Raises:
        ConfigError: the script is missing, fails or prints something else.
    """
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise ConfigError(f"GPU discovery script {path!r} does not exist or is not executable")
    try:
        out = subprocess.run([path], capture_output=True, text=True, timeout=timeout, check=True).stdout
        info = json.loads(out)
        addresses = [str(a) for a in info["addresses"]]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"GPU discovery script {path!r} failed or did not print "
            f'{{"name": "gpu", "addresses": [...]}}: {exc}'
        ) from exc
    return addresses


def _nvidia_smi() -> list[str]:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, "--query-gpu=index", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def local_gpus(sc: Any) -> list[str]:
    """GPU ids a local-mode session may hand to trials.

    In order: the driver's Spark resources (``spark.driver.resource.gpu.amount`` with a discovery
    script or resources file), a discovery script named in the conf, then ``nvidia-smi``.
    ``spark.sparkexp.gpus`` (set by :func:`sparkexp.session`) limits how many are used.
    """
    conf = getattr(sc, "_conf", None) or sc.getConf()
    # reading sc.resources costs ~20 ms of py4j calls: only when the driver was given GPUs
    driver_gpus = conf.get("spark.driver.resource.gpu.amount", None)
    resources = (getattr(sc, "resources", None) or {}) if driver_gpus else {}
    return gpus_from_conf(conf, resources)


def gpus_from_conf(conf: Any, resources: dict[str, Any], *, nvidia_smi: bool = True) -> list[str]:
    """:func:`local_gpus` from a conf (``.get(key, default)``) and the driver's resources."""
    addresses: list[str] = []
    if "gpu" in resources:
        addresses = [str(a) for a in resources["gpu"].addresses]
    else:
        for key in DISCOVERY_KEYS:
            script = conf.get(key, None)
            if script:
                addresses = run_discovery_script(script)
                break
        else:
            addresses = _nvidia_smi() if nvidia_smi else []
    limit = conf.get("spark.sparkexp.gpus", None)
    if limit is not None and int(limit) >= 0:
        addresses = addresses[: int(limit)]
    return addresses


class _NoPool(GpuPool):
    """Spark (or nobody) assigns GPUs: trial messages carry none, releases do nothing."""

    def __init__(self) -> None:
        super().__init__([], per_trial=1)

    def message(self, owner: str) -> dict[str, Any]:
        return {}


def pool_for(plan: Any) -> GpuPool:
    """The driver's pool for a :class:`~sparkexp.runner.resources.TrialResources` plan.

    A real pool only in local mode with ``gpus_per_trial``; otherwise one that hands out nothing.
    """
    if plan is None or not plan.local_gpus or not plan.gpus_per_trial:
        return _NoPool()
    return GpuPool(list(plan.local_gpus), per_trial=plan.gpus_per_trial)
