"""An experiment whose journal the test grows by hand, as a driver would (no Spark): for the
dashboard's server-push tests.

Example:
    >>> exp = GrowingExperiment.create(tempfile.mkdtemp(), "grow")     # doctest: +SKIP
    >>> exp.start(0); exp.finish(0, 0.8)                               # doctest: +SKIP
"""

from __future__ import annotations

import time
from typing import Any

from sparkexp.store import ExperimentStore
from sparkexp.trial import trial_id

__all__ = ["GrowingExperiment"]


class GrowingExperiment:
    """A running random search whose trials start and finish when the test says."""

    def __init__(self, store: ExperimentStore, manifest: dict[str, Any]) -> None:
        self.store = store
        self.manifest = manifest
        self.id = store.path.rstrip("/").rsplit("/", 1)[-1]

    @classmethod
    def create(cls, root: str, name: str) -> GrowingExperiment:
        store = ExperimentStore.create(root, name)
        manifest = {"name": name, "strategy": "random", "search": {"samples": 10, "seed": 0},
                    "function": "train", "direction": "max", "metric": "accuracy", "max_parallel": 2,
                    "state": "running", "created": time.time(), "finished": None}
        store.write_manifest(manifest)
        return cls(store, manifest)

    def start(self, i: int) -> None:
        """Trial ``i`` is proposed and starts running."""
        tid, now = trial_id(i), time.time()
        self.store.append_events([
            {"e": "trial", "id": tid, "index": i, "params": {"lr": 0.1 * (i + 1)},
             "logdir": self.store.trial_dir(tid), "t": now},
            {"e": "start", "id": tid, "t": now, "host": "worker-1", "executor": "0", "slot": i % 2,
             "task": 100 + i, "attempt": 1}])

    def finish(self, i: int, accuracy: float) -> None:
        """Trial ``i`` completes with ``accuracy``."""
        tid, now = trial_id(i), time.time()
        record = {"id": tid, "index": i, "params": {"lr": 0.1 * (i + 1)}, "status": "complete",
                  "metric": accuracy, "outputs": {"accuracy": accuracy}, "error": None,
                  "logdir": self.store.trial_dir(tid), "started": now - 1.0, "finished": now,
                  "host": "worker-1", "executor": "0", "slot": i % 2, "spark_task": 100 + i, "attempt": 1}
        self.store.append_events([{"e": "result", "id": tid, "trial": record}])

    def end(self) -> None:
        """The experiment finishes (its manifest says so)."""
        self.manifest.update(state="finished", finished=time.time())
        self.store.write_manifest(self.manifest)
