"""A synthetic experiment written through sparkexp's own store (no Spark): for the dashboard's
benchmark and its tests of scale.

The records are what the driver writes: a manifest, ``trial``/``start``/``report``/``result``
journal events in the driver's order, and ``trial.json`` for a sample of trials.

Example:
    >>> import tempfile
    >>> path = write_experiment(tempfile.mkdtemp(), "synthetic", trials=20)
    >>> from sparkexp.result import load
    >>> len(load(path).trials)
    20
"""

from __future__ import annotations

import math
import random
import time

from sparkexp.store import ExperimentStore
from sparkexp.trial import trial_id

__all__ = ["write_experiment"]


def write_experiment(root: str, name: str, *, trials: int, slots: int = 8, reports: int = 5,
                     seed: int = 0, fail_every: int = 50, batch: int = 500) -> str:
    """Write a finished random-search experiment of ``trials`` trials on ``slots`` slots;
    return its directory. Every ``fail_every``-th trial fails with a traceback."""
    rng = random.Random(seed)
    store = ExperimentStore.create(root, name)
    t0 = time.time() - trials * 2.0 / slots
    manifest = {"name": name, "strategy": "random", "search": {"samples": trials, "seed": seed},
                "function": "train", "function_ref": "synthetic:train", "direction": "max",
                "metric": "accuracy", "max_parallel": slots, "state": "running", "created": t0,
                "finished": None, "master": "local[2]"}
    store.write_manifest(manifest)
    events: list[dict] = []
    clock = [t0 + i * 0.01 for i in range(slots)]
    counts: dict[str, int] = {}
    for i in range(trials):
        tid = trial_id(i)
        slot = i % slots
        params = {"lr": 10 ** rng.uniform(-5, -1), "layers": rng.randint(1, 6),
                  "optimizer": rng.choice(["adam", "sgd", "rmsprop"]), "dropout": rng.uniform(0, 0.6)}
        start = clock[slot] + rng.uniform(0.0, 0.2)
        duration = rng.uniform(0.5, 3.0)
        events.append({"e": "trial", "id": tid, "index": i, "params": params, "logdir": store.trial_dir(tid), "t": start - 0.05})
        events.append({"e": "start", "id": tid, "t": start, "host": "worker-1", "executor": str(slot // 2),
                       "slot": slot, "task": 1000 + i, "attempt": 1})
        quality = 1 - abs(math.log10(params["lr"]) + 3) / 4 - params["dropout"] / 3
        for step in range(reports):
            events.append({"e": "report", "id": tid, "r": {"step": step, "_time": start + duration * (step + 1) / (reports + 1),
                                                           "accuracy": quality * (1 - math.exp(-step - 1))}})
        failed = fail_every and i % fail_every == fail_every - 1
        status = "error" if failed else "complete"
        counts[status] = counts.get(status, 0) + 1
        record = {"id": tid, "index": i, "params": params, "status": status,
                  "metric": None if failed else quality, "outputs": {} if failed else {"accuracy": quality, "loss": 1 - quality},
                  "error": "Traceback (most recent call last):\n  File \"train.py\", line 3, in train\nValueError: diverged" if failed else None,
                  "logdir": store.trial_dir(tid), "started": start, "finished": start + duration, "host": "worker-1",
                  "executor": str(slot // 2), "slot": slot, "spark_task": 1000 + i, "attempt": 1}
        events.append({"e": "result", "id": tid, "trial": record})
        clock[slot] = start + duration
        if len(events) >= batch:
            store.append_events(events, sync=False)
            events = []
    store.append_events(events)
    manifest.update(state="finished", finished=max(clock), counts=counts)
    store.write_manifest(manifest)
    return store.path
