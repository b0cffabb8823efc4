"""Driving the pure trial scheduler in tests: a fake clock, fake slot workers, a scheduler built
from a grid, and readers of its actions (tests/runner/test_scheduler.py, test_replay.py,
test_scheduler_checkpoints.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sparkexp.journal import TrialFinished
from sparkexp.options import RunOptions
from sparkexp.runner.messages import TrialAssignment
from sparkexp.runner.policy import Actions
from sparkexp.runner.scheduler import Scheduler
from sparkexp.search import GridSearch, Search
from sparkexp.search.stopping import Stopper

__all__ = ["Clock", "Told", "Worker", "finished_events", "given", "make", "result"]


class Clock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass(eq=False)
class Worker:
    """A slot's task as the scheduler sees it: something with a hello."""

    slot: int
    task: int = 0

    @property
    def hello(self) -> dict[str, Any]:
        return {"slot": self.slot, "task": self.task or 100 + self.slot, "host": "h",
                "executor": str(self.slot), "pid": 4000 + self.slot}


def make(n: int = 4, *, search: Search | None = None, clock: Clock | None = None,
         stopper: Stopper | None = None, **options: Any) -> tuple[Scheduler, Clock]:
    clock = clock or Clock()
    options.setdefault("max_parallel", 2)
    limits = {k: options.pop(k) for k in ("max_lost", "max_job_restarts") if k in options}
    sched = Scheduler(search or GridSearch({"x": list(range(n))}), options=RunOptions(**options),
                      trial_dir=lambda tid: f"/exp/{tid}", stopper=stopper, clock=clock, wall=clock,
                      **limits)
    return sched, clock


def given(actions: Actions, worker: Worker) -> TrialAssignment | None:
    """The trial handed to ``worker`` by these actions, if any."""
    for to, reply in actions.replies:
        if to is worker and isinstance(reply, TrialAssignment):
            return reply
    return None


def result(trial: TrialAssignment | str, status: str = "complete", metric: float | None = None,
           **extra: Any) -> dict[str, Any]:
    tid = trial if isinstance(trial, str) else trial.id
    value = metric if metric is not None else (1.0 if status == "complete" else None)
    return {"id": tid, "status": status, "metric": value,
            "outputs": {} if value is None else {"metric": value}, **extra}


def finished_events(actions: Actions) -> list[TrialFinished]:
    return [e for e in actions.journal if isinstance(e, TrialFinished)]


class Told(GridSearch):
    """A grid that also keeps what it was told, in order."""

    def __init__(self, grid: dict[str, list[Any]]) -> None:
        super().__init__(grid)
        self.told: list[tuple[str, int, Any]] = []

    def tell(self, key: int, loss: float | None, status: str = "complete") -> None:
        self.told.append(("tell", key, loss))
        super().tell(key, loss, status)

    def tell_objectives(self, key: int, losses: Any, status: str = "complete") -> None:
        self.told.append(("objectives", key, None if losses is None else list(losses)))

    def tell_constraints(self, key: int, values: Any) -> None:
        self.told.append(("constraints", key, list(values)))
