"""Operating experiments from a shell or another process: status, kill, retry.

All three work through the project root: ``status`` reads the records (live while the
experiment runs), ``kill`` connects to the running driver's control endpoint published in the
experiment directory (``control.json``: address and a per-experiment token, readable by the
owner only on local disks) and asks it to stop cleanly, ``retry`` runs the failed or stopped
trials of an experiment again, recording the new attempts beside the old ones.

Example:
    >>> from sparkexp import control
    >>> print(control.format_status(control.status("sparkexp-project/Experiments/demo_1")))  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import time
from collections import Counter
from typing import Any

from sparkexp.errors import ConfigError, StorageError
from sparkexp.result import Result
from sparkexp.status import FAILED, FINISHED, ExperimentState, TrialStatus, best_trial
from sparkexp.store import ExperimentStore

__all__ = ["status", "format_status", "kill", "retry", "resolve_function"]

def status(path: str) -> dict[str, Any]:
    """Counts, running trials with their last metrics, and the best trial, from the records."""
    store = ExperimentStore(str(path).rstrip("/"))
    manifest = store.read_manifest()
    trials = store.load_trials()
    counts = Counter(str(t.status) for t in trials)
    best = best_trial(trials, str(manifest.get("direction", "max")))
    running = [
        {"id": t.id, "params": t.params, "host": t.host, "started": t.started,
         "slot": t.slot, "spark_task": t.spark_task,
         "last": ({k: v for k, v in t.history[-1].items() if k != "_time"} if t.history else None)}
        for t in trials if t.status == TrialStatus.RUNNING
    ]
    return {
        "path": store.path,
        "name": manifest.get("name"),
        "state": manifest.get("state"),
        "strategy": manifest.get("strategy"),
        "metric": manifest.get("metric") or "metric",
        "direction": manifest.get("direction"),
        "trials": len(trials),
        "finished": sum(counts[s] for s in FINISHED),
        "failed": sum(counts[s] for s in FAILED),
        "counts": dict(counts),
        "running": running,
        "best": None if best is None else {"id": best.id, "metric": best.metric, "params": best.params},
        "live": store.read_control() is not None,
    }


def format_status(info: dict[str, Any]) -> str:
    """A few lines for a terminal."""
    counts = ", ".join(f"{n} {s}" for s, n in sorted(info["counts"].items())) or "no trials"
    live = " (driver running)" if info["live"] else ""
    lines = [f"{info['name']}: {info['state']}{live}, {info['strategy']} search",
             f"trials: {info['trials']} ({counts}); finished {info['finished']}, failed {info['failed']}"]
    best = info["best"]
    if best is not None:
        lines.append(f"best {info['metric']}={best['metric']:.6g} at {best['id']}: {best['params']}")
    for run in info["running"]:
        last = run["last"]
        shown = ", ".join(f"{k}={v}" for k, v in last.items()) if last else "no report yet"
        where = f"{run['host']}, slot {run.get('slot')}, Spark task {run.get('spark_task')}"
        lines.append(f"  running {run['id']} ({where}): {run['params']} | {shown}")
    return "\n".join(lines)


def kill(path: str, *, timeout: float = 10.0) -> bool:
    """Ask the driver running the experiment at ``path`` to stop it cleanly.

    Running trials are stopped and recorded as ``stopped``, the driver's experiment call
    returns (state ``killed``). Returns True once the driver confirmed and recorded the stop
    (within ``timeout`` seconds), False if no driver is running the experiment.

    Raises:
        ChannelError: the endpoint refused the token (not this experiment's driver).
    """
    from sparkexp.runner import channel

    store = ExperimentStore(str(path).rstrip("/"))
    endpoint = store.read_control()
    if endpoint is None:
        return False
    try:
        sock = channel.connect(str(endpoint["host"]), int(endpoint["port"]), str(endpoint["token"]),
                               {"role": "control"}, timeout=min(timeout, 10.0))
    except (ConnectionRefusedError, TimeoutError):
        return False  # a stale endpoint: the driver died without withdrawing it
    try:
        channel.send(sock, {"op": "kill"})
        channel.recv(sock)
    finally:
        sock.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store.read_manifest().get("state") != ExperimentState.RUNNING:
            return True
        time.sleep(0.1)
    return False


def resolve_function(ref: str) -> Any:
    """Import ``module:qualname`` (as recorded in the manifest's ``function_ref``)."""
    module_name, _, qualname = ref.partition(":")
    if not module_name or not qualname:
        raise ConfigError(f"function reference must be 'module:function', got {ref!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import module '{module_name}' of function {ref!r}: {exc}") from exc
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise ConfigError(f"module '{module_name}' has no function '{qualname}'")
    return obj


def retry(spark: Any, path: str, fn: Any = None, *, failed: bool = True, stopped: bool = False,
          **options: Any) -> Result:
    """Run the failed (error, timeout) and/or stopped trials of an experiment again.

    The new attempts are recorded in the same experiment (``attempt`` goes up; the old
    attempt stays in the journal as an ``attempt`` event). ``fn`` defaults to the function
    recorded in the manifest (``function_ref``) when it can be imported.
    """
    store = ExperimentStore(str(path).rstrip("/"))
    manifest = store.read_manifest()
    if manifest.get("state") == ExperimentState.RUNNING and store.read_control() is not None:
        raise StorageError(f"{store.path} is still running; retry it once it ended")
    if not failed and not stopped:
        raise ConfigError("retry needs failed=True and/or stopped=True")
    wanted = (set(FAILED) if failed else set()) | ({TrialStatus.STOPPED} if stopped else set())
    ids = [t.id for t in store.load_trials() if t.status in wanted]
    if fn is None:
        ref = manifest.get("function_ref")
        if not ref:
            raise ConfigError(f"{store.path} does not record an importable function; pass fn=")
        fn = resolve_function(str(ref))
    from sparkexp import experiment

    if not ids:
        return experiment.load(store.path)
    return experiment.resume(spark, store.path, fn, _rerun=ids, **options)
