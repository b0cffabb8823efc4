"""The experiment's slot jobs on the driver: which run, which have connected, how many to keep.

Each trial slot is one long-lived Spark job started through the
:class:`~sparkexp.runner.backend.Backend`; its task pulls trials over the channel. The
:class:`SlotKeeper` starts slot jobs, notes when their tasks connect and when their jobs end,
follows what the executors offer (:meth:`SlotKeeper.see`) and starts more when the experiment
wants them (:meth:`SlotKeeper.top_up`; how many is :func:`~sparkexp.runner.elastic.wanted_slots`'s
decision); at the experiment's end it sees them all end (:meth:`SlotKeeper.wind_up`). It owns
no lock: the driver calls it under its own. A job's end arrives as a ``job_end``
:class:`~sparkexp.runner.server.Event` on the driver's event queue.

Example (a backend that starts nothing)::

    keeper = SlotKeeper(backend, events, ceiling=None, fallback=2, dynamic=False, look_every=1.0)
    keeper.task = functools.partial(run_task, spec)
    keeper.top_up(work=10)            # starts slots 0 and 1
"""

from __future__ import annotations

import functools
import logging
import queue
import time
from typing import Any

from sparkexp.runner.backend import Backend
from sparkexp.runner.elastic import Look, wanted_slots
from sparkexp.runner.server import Event

__all__ = ["SlotKeeper"]

log = logging.getLogger("sparkexp")


class SlotKeeper:
    """The slot jobs of one experiment (see the module docstring).

    Args:
        backend: Starts and stops slot jobs.
        events: The driver's event queue (a job's end is put there).
        ceiling: Most slots at once (``max_parallel`` given), or None: what the cluster offers.
        fallback: Slots to keep before the executors were seen (``max_parallel`` or 1).
        dynamic: Dynamic allocation is on (slot jobs need not wait for capacity).
        look_every: Seconds between looks at the executors.
    """

    def __init__(self, backend: Backend, events: queue.SimpleQueue[Event], *, ceiling: int | None,
                 fallback: int, dynamic: bool, look_every: float) -> None:
        self.backend = backend
        self._events = events
        self._ceiling = ceiling
        self._fallback = fallback
        self._dynamic = dynamic
        #: local mode: the capacity is fixed, only sharing is looked at
        self.local = backend.master.startswith("local")
        self.look_every = look_every
        #: when the driver looks at the executors next (monotonic seconds)
        self.look_at = 0.0
        #: trial slots the executors offer, once seen
        self.capacity: int | None = None
        #: the body of a slot's task, ``(slot) -> task`` once the channel is up
        self.task: Any = None
        #: a slot task connected at least once (executors can reach this process)
        self.reached = False
        #: slots whose job runs (or waits for a task slot), and those whose task has connected
        self.live: set[int] = set()
        self.connected: set[int] = set()
        self.jobs_running = 0
        self._next_slot = 0

    def start(self, slot: int) -> None:
        """Start slot ``slot``'s job (again, after a failure, or a new one)."""
        self.jobs_running += 1
        self.live.add(slot)
        self._next_slot = max(self._next_slot, slot + 1)
        events = self._events
        self.backend.start_slot(slot, functools.partial(self.task, slot=slot),
                                lambda s, error: events.put(Event("job_end", payload=(s, error))))

    def top_up(self, work: float) -> None:
        """Start slot jobs until there are as many as ``work`` trials left can use and the
        cluster offers (see runner/elastic.py)."""
        capacity = self.capacity if self.capacity is not None else self._fallback
        want = wanted_slots(ceiling=self._ceiling, work=work, capacity=capacity, dynamic=self._dynamic)
        while len(self.live) < want:
            self.start(self._next_slot)

    def see(self, seen: Look) -> None:
        """What a look at the executors found: the capacity follows them (not in local mode)."""
        if self.local:
            return
        if self.capacity is not None and seen.capacity != self.capacity:
            log.info("sparkexp: the executors now offer %d trial slots (were %d)",
                     seen.capacity, self.capacity)
        self.capacity = seen.capacity

    def look(self) -> Look | None:
        """Look at the executors through the backend (py4j calls: call it outside the driver's
        lock); None when the look failed or the backend cannot see them (Spark Connect)."""
        looker = getattr(self.backend, "look", None)
        try:
            return looker() if looker is not None else Look(self.backend.capacity(), 0, 0)
        except Exception as exc:  # noqa: BLE001 - a failed look changes nothing
            log.debug("sparkexp: cannot look at the executors: %s", exc)
            return None

    def task_connected(self, slot: int) -> None:
        """Slot ``slot``'s task asked for a trial."""
        self.reached = True
        self.connected.add(slot)

    def task_lost(self, slot: int) -> None:
        """Slot ``slot``'s task died running a trial (its job runs it again, or ends)."""
        self.connected.discard(slot)

    def ended(self, slot: int) -> None:
        """Slot ``slot``'s job ended."""
        self.jobs_running -= 1
        self.live.discard(slot)
        self.connected.discard(slot)

    def await_started(self, deadline: float) -> None:
        """Take the ends of slot jobs while a slot task of the experiment runs on an executor
        without having connected, until the deadline (the experiment finished: such a task
        connects, is told to stop, and its job ends). Returns at once when none runs, or when
        the backend cannot tell (no ``tasks_running``, or it answers None).

        Why not cancel them: a cancelled task whose Python worker is still starting is killed,
        and PySpark ends a killed task's worker only after ``spark.python.task.killTimeout``
        (2 s) plus up to 2 s of its monitor's polling, so its task slot stays taken for seconds
        after the experiment returned, and the worker is destroyed instead of kept for reuse:
        the next experiment then starts a cold worker, is late again, and so on.
        """
        running = getattr(self.backend, "tasks_running", None)
        while self.live and running is not None and time.monotonic() < deadline:
            if not running():
                return
            self.await_ended(self.live, min(deadline, time.monotonic() + 0.1))

    def await_ended(self, slots: set[int], deadline: float) -> None:
        """Take the ends of slot jobs until ``slots`` (``live`` or ``connected``) is empty or
        the deadline passes (the driver is shutting down: other events no longer matter)."""
        while slots and time.monotonic() < deadline:
            try:
                event = self._events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return
            if event.kind == "job_end":
                self.ended(event.payload[0])

    def wind_up(self, seconds: float, *, finished: bool) -> None:
        """The experiment is over: wait up to ``seconds`` for the slot tasks that were told to
        stop. After a ``finished`` experiment, tasks that started too late to connect are let
        connect and stop (:meth:`await_started`); jobs whose task never started (queued for a
        task slot, or waiting for a lost executor's replacement) are then cancelled (otherwise
        the driver cancelled every job already) and awaited too."""
        deadline = time.monotonic() + seconds
        self.await_ended(self.connected, deadline)
        if self.live and finished:
            # slot tasks that started too late for a trial are let connect and stop (the
            # server still answers "stop"): killing them would hold their task slots for seconds
            self.await_started(deadline)
            if self.live:
                self.backend.cancel_all()
        self.await_ended(self.live, deadline)
        settle = getattr(self.backend, "join_ended", None)
        if settle is not None:  # the threads that reported their job's end are finishing
            settle(1.0)
