"""The MLflow sync process: reads journal events on stdin, mirrors them into MLflow.

Started by :class:`~sparkexp.tracking.LiveTracking` (``python -c LAUNCH``); not for direct use. Input, one JSON object
a line: first ``{"config": {...}}``, then ``{"events": [...]}`` batches, then ``{"end": true}``
(end of input also ends). Output: ``{"warn": ...}`` / ``{"info": ...}`` lines the driver logs.
A failed sync is retried with backoff (0.5 s doubling to 5 s) for as long as the experiment
runs and for :data:`GIVE_UP` seconds after it ended. Exit code 0: MLflow holds everything;
3: gave up (MLflow down); 1: a bug. It runs at nice +10.
"""

from __future__ import annotations

import itertools
import json
import logging
import queue
import sys
import threading
import time
from typing import Any

__all__ = ["main", "GIVE_UP", "NICENESS", "LAUNCH"]

#: seconds MLflow may stay unreachable after the experiment ended before the process gives up
GIVE_UP = 600.0
#: how much lower the process's CPU priority is than the driver's (not SCHED_IDLE: on a busy
#: machine that starved it for minutes)
NICENESS = 10
#: ``python -c`` code that starts the process: lower its priority first, before the imports
#: (numpy, mlflow: seconds of CPU on a busy machine), then run :func:`main`
LAUNCH = (f"import os, sys\nif hasattr(os, 'nice'):\n    os.nice({NICENESS})\n"
          "from sparkexp.tracking._process import main\nsys.exit(main())")
_FIRST_DELAY = 0.5
_MAX_DELAY = 5.0
_END = object()


def _say(**status: Any) -> None:
    """A status line for the driver (gone drivers are ignored)."""
    try:
        sys.stdout.write(json.dumps(status) + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        pass


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


def _read_stdin(inbox: queue.SimpleQueue[Any]) -> None:
    for line in sys.stdin:
        if line.strip():
            inbox.put(json.loads(line))
    inbox.put(_END)


def main() -> int:
    """Run the sync loop until the input ended and MLflow holds everything (or we gave up)."""
    from sparkexp.store import ExperimentStore
    from sparkexp.tracking._sync import MlflowSync

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    config = json.loads(sys.stdin.readline())["config"]
    store = ExperimentStore(config["path"])
    sync = MlflowSync(store, config["uri"], experiment_name=config.get("experiment_name"))
    where = config["uri"] or "the environment's MLflow"
    if config.get("replay"):
        sync.add_events(itertools.islice(store.read_events(), int(config["replay"])))
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    threading.Thread(target=_read_stdin, args=(inbox,), daemon=True).start()
    ended_at: float | None = None
    down_since: float | None = None
    delay = _FIRST_DELAY
    need_sync = bool(config.get("replay"))
    while True:
        items = []
        try:
            if down_since is not None:
                items.append(inbox.get(timeout=delay))  # retry after delay, or on news
            elif not need_sync:
                items.append(inbox.get())
        except queue.Empty:
            pass
        while True:
            try:
                items.append(inbox.get_nowait())
            except queue.Empty:
                break
        for item in items:
            need_sync = True
            if item is _END or item.get("end"):
                ended_at = ended_at or time.monotonic()
            elif item.get("events"):
                sync.add_events(item["events"])
        if not need_sync:
            continue
        try:
            sync.sync(final=ended_at is not None)
        except Exception as exc:  # noqa: BLE001 - MLflow down is never the experiment's failure
            now = time.monotonic()
            if down_since is None:
                down_since = now
                _say(warn=f"MLflow tracking to {where} failed ({_one_line(exc)}); retrying in "
                          "the background, the experiment's records stay complete")
            delay = min(delay * 2, _MAX_DELAY)
            if ended_at is not None and now - max(ended_at, down_since) > GIVE_UP:
                _say(warn=f"gave up MLflow tracking to {where} after {GIVE_UP:.0f} s; run "
                          f"`sparkexp export-mlflow {store.path} --tracking-uri URI` later")
                return 3
            continue
        if down_since is not None:
            _say(warn=f"MLflow tracking to {where} works again; catching up")
            down_since, delay = None, _FIRST_DELAY
        need_sync = sync.pending
        if ended_at is not None and not need_sync:
            return 0


if __name__ == "__main__":
    sys.exit(main())
