"""The classic backend on real local Spark: slots as jobs, one slot cancelled alone."""

from __future__ import annotations

import queue
import time

from sparkexp.runner.backend import Backend
from sparkexp.runner.spark_backend import SparkContextBackend


def test_a_slot_can_be_stopped_alone_and_each_end_is_reported_once(spark):
    backend = SparkContextBackend(spark, group="sparkexp-test-backend", description="backend test")
    assert isinstance(backend, Backend)
    assert backend.capacity() == 2 and backend.master.startswith("local")
    ended: queue.SimpleQueue[tuple[int, BaseException | None]] = queue.SimpleQueue()

    def slow(partition, iterator):  # defined here: pickled by value for the executor
        import time as t

        for _ in iterator:
            pass
        t.sleep(60)
        yield partition

    def quick(partition, iterator):
        for _ in iterator:
            pass
        yield partition

    started = time.monotonic()
    backend.start_slot(0, slow, lambda slot, error: ended.put((slot, error)))
    backend.start_slot(1, quick, lambda slot, error: ended.put((slot, error)))
    assert ended.get(timeout=120) == (1, None)  # the quick slot ended by itself
    time.sleep(1)  # let slot 0's job start before cancelling it
    backend.stop_slot(0)
    slot, error = ended.get(timeout=60)
    assert slot == 0 and error is not None and time.monotonic() - started < 60
    assert ended.empty()


def test_missing_module_is_read_from_the_slot_failure(spark):
    backend = SparkContextBackend(spark, group="g", description="d")
    error = RuntimeError("...ModuleNotFoundError: No module named 'mylib.models'\n...")
    assert backend.missing_module(error) == "mylib.models"
    assert backend.missing_module(RuntimeError("Python worker exited")) is None
    assert backend.missing_module(None) is None
