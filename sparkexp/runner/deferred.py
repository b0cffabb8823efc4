"""A slot task's background thread for work that must not delay the next trial.

Example:
    >>> done = []
    >>> deferred = Deferred()
    >>> deferred.submit(lambda: done.append(1))
    >>> deferred.close()
    >>> done
    [1]
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Callable, Iterator

__all__ = ["Deferred"]


class Deferred:
    """A task's background thread for work that must not delay the next trial (the trial's
    TensorBoard HParams file: a file create and an fsync per trial). Drained when the task ends.

    Jobs start only while the gate is open: the runner opens it while a trial's function runs
    and shuts it between trials, so the work never competes for the GIL with the round trip
    that fetches the next trial (measured: it doubled that round trip on 2 cores). Trials too
    short to leave it time would let the work pile up (and all be done at the end), so past
    ``backlog`` waiting jobs the gate is ignored.
    """

    #: waiting jobs past which they run whether or not a trial is running
    backlog = 4

    def __init__(self) -> None:
        self._jobs: collections.deque[Callable[[], None]] = collections.deque()
        self._cond = threading.Condition()
        self._open = False
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="sparkexp-deferred", daemon=True)
        self._thread.start()

    def _may_run(self) -> bool:
        return self._open or self._closing or len(self._jobs) > self.backlog

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: (self._jobs and self._may_run()) or
                                    (self._closing and not self._jobs))
                if not self._jobs:
                    return  # closing, everything done
                job = self._jobs.popleft()
            with contextlib.suppress(Exception):
                job()

    @contextlib.contextmanager
    def open_while(self) -> Iterator[None]:
        """Let queued jobs start during the block (a trial's function call)."""
        with self._cond:
            self._open = True
            self._cond.notify()
        try:
            yield
        finally:
            with self._cond:
                self._open = False

    def submit(self, job: Callable[[], None]) -> None:
        with self._cond:
            self._jobs.append(job)
            if self._may_run():
                self._cond.notify()

    def close(self, timeout: float = 60.0) -> None:
        """Run every queued job, then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
