"""Operating experiments from a shell or another process: status, kill, retry, pause, resume.

All three work through the project root: ``status`` reads the records (live while the
experiment runs), ``kill`` connects to the running driver's control endpoint published in the
experiment directory (``control.json``: address and a per-experiment token, readable by the
owner only on local disks) and asks it to stop cleanly, ``retry`` runs the failed or stopped
trials of an experiment again, recording the new attempts beside the old ones. ``pause`` stops
one running trial (status ``paused``, its slot goes to other trials) and ``resume_trial`` queues
it again; it continues from its latest checkpoint (``reporter.checkpoint``).

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

__all__ = ["status", "format_status", "kill", "retry", "resolve_function", "pause", "resume_trial"]

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
    store = ExperimentStore(str(path).rstrip("/"))
    if _request(store, {"op": "kill"}, timeout) is None:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store.read_manifest().get("state") != ExperimentState.RUNNING:
            return True
        time.sleep(0.1)
    return False


def _request(store: ExperimentStore, message: dict[str, Any], timeout: float) -> dict[str, Any] | None:
    """Send one control request to the experiment's running driver; its answer, or None when
    no driver runs it."""
    from sparkexp.runner import channel

    endpoint = store.read_control()
    if endpoint is None:
        return None
    try:
        sock = channel.connect(str(endpoint["host"]), int(endpoint["port"]), str(endpoint["token"]),
                               {"role": "control"}, timeout=min(timeout, 10.0))
    except (ConnectionRefusedError, TimeoutError):
        return None  # a stale endpoint: the driver died without withdrawing it
    try:
        channel.send(sock, message)
        return channel.recv(sock)
    finally:
        sock.close()


def _trial_request(path: str, op: str, trial: str, timeout: float) -> dict[str, Any]:
    store = ExperimentStore(str(path).rstrip("/"))
    if not isinstance(trial, str) or not trial:
        raise ConfigError(f"{op}: name the trial, e.g. trial_00003, got {trial!r}")
    reply = _request(store, {"op": op, "trial": trial}, timeout)
    if reply is None:
        hint = (" (sparkexp resume PATH runs the experiment again: paused trials continue "
                "from their checkpoints)") if op == "resume" else ""
        raise StorageError(f"no driver is running {store.path}; cannot {op} {trial}{hint}")
    if reply.get("op") != "ok":
        raise ConfigError(f"cannot {op} {trial}: {reply.get('error')}")
    return reply


def pause(path: str, trial: str, *, timeout: float = 10.0) -> bool:
    """Pause one running (or queued) trial of a running experiment.

    The trial is stopped like a cancelled one and recorded as ``paused``; its slot runs other
    trials. :func:`resume_trial` queues it again, and it continues from its latest checkpoint.
    An experiment that ends with paused trials has state ``paused``; ``experiment.resume``
    (``sparkexp resume PATH``) continues them. Returns True once the trial is recorded paused.

    Raises:
        StorageError: no driver runs the experiment.
        ConfigError: no such trial, or it is not running or queued.
    """
    store = ExperimentStore(str(path).rstrip("/"))
    _trial_request(path, "pause", trial, timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(t.id == trial and t.status == "paused" for t in store.load_trials()):
            return True
        time.sleep(0.1)
    return False


def resume_trial(path: str, trial: str, *, timeout: float = 10.0) -> None:
    """Queue a paused trial of a running experiment again (it continues from its checkpoint).

    Raises:
        StorageError: no driver runs the experiment (resume the whole experiment instead).
        ConfigError: no such trial, or it is not paused.
    """
    _trial_request(path, "resume", trial, timeout)


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
