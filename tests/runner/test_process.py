"""What the driver changes in its own process for an experiment, and puts back: SIGTERM
handled like Ctrl-C, and the heap present at the start kept out of full collections (no Spark)."""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
import textwrap
import threading

import pytest
from support.cli import cli_env

from sparkexp.runner.process import Terminated, frozen_heap, install_sigterm, restore_sigterm

pytestmark = pytest.mark.timeout(60)

_DRIVER = textwrap.dedent(
    """
    import os, signal, sys, time
    from sparkexp.runner.process import Terminated, install_sigterm, restore_sigterm

    previous = install_sigterm()
    try:
        print("running", flush=True)
        time.sleep(50)  # the experiment's loop
        print("not stopped", flush=True)
    except KeyboardInterrupt as exc:  # what the driver catches for Ctrl-C
        print(f"{type(exc).__name__}: {exc}", flush=True)
    finally:
        restore_sigterm(previous)
    print("recorded", flush=True)  # the driver records the stopped trials, then ends
    os.kill(os.getpid(), signal.SIGTERM)  # after the experiment: the usual SIGTERM again
    time.sleep(50)
    print("survived", flush=True)
    """
)


def test_sigterm_during_an_experiment_is_a_ctrl_c_and_the_usual_one_afterwards():
    proc = subprocess.Popen([sys.executable, "-c", _DRIVER], stdout=subprocess.PIPE, text=True,
                            env=cli_env())
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "running\n"
        proc.send_signal(signal.SIGTERM)  # spark-submit or a cluster scheduler ending the driver
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert out == "Terminated: SIGTERM\nrecorded\n"
    assert proc.returncode == -signal.SIGTERM


def test_the_handler_is_installed_in_the_main_thread_only_and_put_back():
    before = signal.getsignal(signal.SIGTERM)
    from_thread: list[object] = []
    worker = threading.Thread(target=lambda: from_thread.append(install_sigterm()))
    worker.start()
    worker.join(10)
    assert from_thread == [None] and signal.getsignal(signal.SIGTERM) == before
    restore_sigterm(None)  # nothing was installed: nothing to put back
    assert signal.getsignal(signal.SIGTERM) == before
    previous = install_sigterm()
    try:
        assert previous == before and signal.getsignal(signal.SIGTERM) != before
        assert issubclass(Terminated, KeyboardInterrupt)
    finally:
        restore_sigterm(previous)
    assert signal.getsignal(signal.SIGTERM) == before


def test_the_heap_of_the_start_is_frozen_for_the_block_and_released_after():
    def scanned(obj: object) -> bool:  # among the objects the collector looks at
        return any(o is obj for o in gc.get_objects())

    notebook_state = [{"a": 1}]  # what the session held before the experiment
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        made_here = [{"b": 2}]  # what the experiment makes is scanned as usual
        assert gc.get_freeze_count() > 1000
        assert not scanned(notebook_state) and scanned(made_here)
    assert gc.get_freeze_count() == 0 and scanned(notebook_state)
    with pytest.raises(RuntimeError), frozen_heap():  # an experiment that fails
        raise RuntimeError("failed")
    assert gc.get_freeze_count() == 0
