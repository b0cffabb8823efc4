"""A trial's output reaches its own logs: through handlers made in earlier trials, through fds
1 and 2 (native code, child processes), and a failed trial's traceback, on real local[2] Spark.

Training functions are defined inside the tests so that they are pickled by value (executors
import only modules on ``tests/``)."""

from __future__ import annotations

import os

from sparkexp import experiment


def _log(trial, name):
    path = os.path.join(trial.logdir, name)
    return open(path).read() if os.path.exists(path) else ""


def test_a_logging_handler_made_in_one_trial_writes_into_the_next_trials_log(spark, root):
    def train(x):
        import logging
        import sys

        if x == 1:
            # the trial that configures logging (as TensorFlow/absl or a user's script does)
            logging.basicConfig(force=True, level=logging.INFO, format="%(levelname)s %(message)s")
            handler = logging.StreamHandler(sys.stdout)  # a handler holding "this" stdout
            logger = logging.getLogger("sparkexp-test-capture")
            logger.handlers[:] = [handler]
            logger.propagate = False
        logging.getLogger().warning("root record of trial %s", x)
        logging.getLogger("sparkexp-test-capture").warning("named record of trial %s", x)
        return float(x)

    # max_parallel=1: one slot task, so both trials run in the same Python worker
    res = experiment.grid_search(spark, train, {"x": [1, 2, 3]}, root=root, name="logging",
                                 max_parallel=1)
    assert [t.status for t in res.trials] == ["complete"] * 3, [t.error for t in res.trials]
    assert len({t.pid for t in res.trials}) == 1
    for t in res.trials:
        x = t.params["x"]
        err, out = _log(t, "stderr.log"), _log(t, "stdout.log")
        assert f"WARNING root record of trial {x}\n" in err
        assert f"named record of trial {x}\n" in out
        # nothing of another trial, and never a logging error
        assert "Logging error" not in err + out
        others = {1, 2, 3} - {x}
        assert not any(f"trial {o}\n" in err + out for o in others)


def test_output_written_to_file_descriptors_and_by_child_processes_is_captured(spark, root):
    def train(x):
        import ctypes
        import os
        import subprocess

        os.write(1, f"fd1 of trial {x}\n".encode())
        os.write(2, f"fd2 of trial {x}\n".encode())
        libc = ctypes.CDLL(None)
        libc.printf(b"printf of trial %d\n", x)  # buffered by C stdio, never flushed by us here
        subprocess.run(["sh", "-c", f"echo child out {x}; echo child err {x} >&2"], check=True)
        print(f"print of trial {x}")
        return float(x)

    res = experiment.grid_search(spark, train, {"x": [1, 2]}, root=root, name="fds", max_parallel=1)
    assert [t.status for t in res.trials] == ["complete"] * 2, [t.error for t in res.trials]
    for t in res.trials:
        x = t.params["x"]
        out, err = _log(t, "stdout.log"), _log(t, "stderr.log")
        for line in (f"fd1 of trial {x}", f"printf of trial {x}", f"child out {x}", f"print of trial {x}"):
            assert line + "\n" in out, (line, out)
        for line in (f"fd2 of trial {x}", f"child err {x}"):
            assert line + "\n" in err, (line, err)
        assert f"trial {3 - x}\n" not in out + err

    # the worker's fds are its own again after the experiment: a plain job that writes works
    def write_fd(_):
        import os

        return os.write(1, b"plain job\n")

    assert spark.sparkContext.parallelize([0], 1).map(write_fd).collect() == [10]


def test_a_failed_trials_traceback_is_in_its_stderr_log(spark, root):
    def train(x):
        print("about to fail")
        if x == 2:
            raise ValueError(f"boom in trial {x}")
        return {"a": 1.0, "b": "text"} if x == 3 else float(x)

    res = experiment.grid_search(spark, train, {"x": [1, 2]}, root=root, name="fails", max_parallel=1)
    ok, failed = res.trials
    assert (ok.status, failed.status) == ("complete", "error")
    err = _log(failed, "stderr.log")
    assert "Traceback (most recent call last)" in err
    assert "ValueError: boom in trial 2\n" in err
    assert "ValueError: boom in trial 2" in failed.error
    assert _log(ok, "stderr.log") == ""
    assert "about to fail\n" in _log(failed, "stdout.log")
