"""The seam between the driver and Spark: what the runner needs from a cluster, and nothing else.

A :class:`Backend` runs *slots*: each slot is one long-lived Spark task that connects back to
the driver's channel and pulls trials until it is told to stop (the task's body is
:func:`sparkexp.runner.worker.run_task`; the backend only gets it there). The scheduler never
sees a backend; the driver starts slots through it, reports their ends to the scheduler, and
carries out the scheduler's kills through it.

The contract, for a new backend (Spark Connect, issue 18; elastic slots, issue 16):

* ``start_slot(slot, task, on_end)`` submits slot ``slot`` (a small int, reused when a slot is
  started again) running ``task(partition_index, iterator)`` as a single-task job, and returns
  at once; when the job ends, for whatever reason, the backend calls ``on_end(slot, error)``
  exactly once from any thread (``error``: None for a normal end, else the exception).
* ``stop_slot(slot)`` cancels that one slot's job (its ``on_end`` still follows); used when
  slots are removed while the experiment runs. Tell the scheduler first
  (:meth:`~sparkexp.runner.scheduler.Scheduler.retire_slot`) so the end is not a failure.
* ``kill_task(task_id, reason, slot=...)`` kills the Spark task attempt that runs a trial which
  ignored its cancellation (``task_id`` and ``slot`` are what the task reported in its hello; a
  Spark Connect backend cannot kill one task and cancels that slot's job instead); False if it
  cannot.
* ``cancel_all()`` cancels every slot job of the experiment (interrupt, abort).
* ``capacity()`` is how many trial slots the cluster offers now (task slots of the executors
  that are up, for the trials' CPUs and GPUs); elastic slots follow it.
* Optional: ``look()`` returns a :class:`~sparkexp.runner.elastic.Look` (capacity, executors,
  and how many other job groups wait for task slots, which makes the experiment share); the
  driver asks it about once a second, falling back to ``capacity()`` and no sharing. A
  backend that cannot see the executors (Spark Connect) answers None: the experiment then
  keeps the slots it planned (no elastic top-up, no yielding). ``join_ended(timeout)`` waits
  for the threads of slots whose end was reported to exit. ``tasks_running()`` counts the
  experiment's slot tasks running on executors now (None: cannot tell); at the end of a
  finished experiment the driver waits for those to connect and be told to stop rather than
  cancel them (see :meth:`~sparkexp.runner.slots.SlotKeeper.await_started`).
* ``bind_address()`` / ``advertised_address()``: where the driver's channel listens, and the
  address tasks connect to.
* ``missing_module(error)``: the module executors could not import, when a slot's failure
  says so (the experiment then stops with a clear error instead of restarting slots).
* ``unreachable(error)``: when a slot ended because its task could not connect to the driver's
  channel, one line naming the address tried and the setting that changes it (the experiment
  stops before any trial if no slot ever connected).
* ``channel_port`` (0: any free port) and ``connect_timeout`` (seconds a task keeps trying to
  reach the channel) configure the channel.
* ``app_id`` and ``master`` are recorded in the manifest.

:class:`~sparkexp.runner.spark_backend.SparkContextBackend` is the classic implementation;
:class:`~sparkexp.runner.dataframe_slots.DataFrameSlots` runs slots as tagged DataFrame jobs (every Spark
Connect session); :func:`~sparkexp.runner.connect.backend_for` picks one for a session.

Example:
    >>> import inspect
    >>> sorted(n for n, _ in inspect.getmembers(Backend, inspect.isfunction) if n[0] != '_')  # doctest: +NORMALIZE_WHITESPACE
    ['advertised_address', 'bind_address', 'cancel_all', 'capacity', 'kill_task',
     'missing_module', 'start_slot', 'stop_slot', 'unreachable']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, runtime_checkable

__all__ = ["Backend", "SlotTask", "SlotEnded"]

#: the body of a slot's task: ``(partition index, iterator) -> iterator``, as
#: ``rdd.mapPartitionsWithIndex`` takes it (picklable: it travels to an executor)
SlotTask = Callable[[int, Iterable[Any]], Iterator[Any]]
#: called once when a slot's job ends: ``(slot, None or the error)``
SlotEnded = Callable[[int, "BaseException | None"], None]


@runtime_checkable
class Backend(Protocol):
    """What the runner needs from Spark (see the module docstring for the contract)."""

    app_id: str
    master: str
    channel_port: int
    connect_timeout: float

    def start_slot(self, slot: int, task: SlotTask, on_end: SlotEnded) -> None:
        """Submit slot ``slot`` running ``task``; return at once; call ``on_end`` when it ends."""
        ...

    def stop_slot(self, slot: int) -> None:
        """Cancel slot ``slot``'s job."""
        ...

    def kill_task(self, task_id: int, reason: str, *, slot: int | None = None) -> bool:
        """Kill a Spark task attempt (running in ``slot``); False when it cannot be done."""
        ...

    def cancel_all(self) -> None:
        """Cancel every slot job of the experiment."""
        ...

    def capacity(self) -> int:
        """Trial slots the cluster offers now."""
        ...

    def bind_address(self) -> str:
        """The address the driver's channel binds to."""
        ...

    def advertised_address(self) -> str:
        """The address slot tasks connect to."""
        ...

    def missing_module(self, error: BaseException | None) -> str | None:
        """The module executors failed to import, if ``error`` says so."""
        ...

    def unreachable(self, error: BaseException | None) -> str | None:
        """One line naming the address a task could not reach, if ``error`` says so."""
        ...
