"""Real frameworks: sparkexp's own cost per trial around a Keras model, and a worker's memory.

1. A 6-trial Keras grid (a small convnet on MNIST-shaped random data, one epoch, its
   ``TensorBoard`` callback writing into ``tensorboard.logdir()``) in local[2]. sparkexp's own
   overhead per trial is measured two ways, both from clocks of the worker that ran the trials:

   * *gap*: on one slot, from the moment a trial's function returned to the moment the next
     trial's function was called (the result goes to the driver, is recorded, the next trial
     comes back, its output capture and context are set up);
   * *wrap*: the trial's recorded duration (``finished - started``, taken by sparkexp around
     the call) minus the time measured inside the function.

   Goal (issue 15): <= 10 ms a trial.

2. The resident memory of a Python worker that ran a trivial sparkexp trial (recorded: HParams,
   a reported scalar, captured output), in this environment where torch and TensorFlow are
   installed, against a bare PySpark worker that ran a plain task (goal: <= +100 MB), and what
   importing tensorboardX (what recording a trial used to do) adds to it.

    python benchmarks/frameworks.py            # 6 Keras trials, 3 repeats of the RSS probe
    python benchmarks/frameworks.py --quick    # the same grid, 1 repeat
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine, session  # noqa: E402

# two cores: one TensorFlow thread pool of one thread each per worker
for _name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

HEAVY = ("torch", "tensorflow", "keras", "tensorboardX")


def keras_trial(kernel: int, units: int) -> dict[str, Any]:
    inside = time.time()
    import numpy as np
    from tensorflow import keras

    from sparkexp import tensorboard

    rng = np.random.default_rng(kernel * 100 + units)
    x = rng.random((256, 16, 16, 1), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 10, 256), 10)
    model = keras.Sequential([
        keras.Input(shape=(16, 16, 1)),
        keras.layers.Conv2D(8, kernel, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(units, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=1, verbose=1, validation_split=0.25,
              callbacks=[keras.callbacks.TensorBoard(log_dir=tensorboard.logdir())])
    accuracy = float(model.evaluate(x, y, verbose=0)[1])
    print("accuracy", accuracy)
    return {"metric": accuracy, "inside_start": inside, "inside_end": time.time()}


def keras_grid(spark: Any, root: str) -> dict[str, Any]:
    from sparkexp import experiment

    t0 = time.perf_counter()
    res = experiment.grid_search(spark, keras_trial, {"kernel": [2, 3, 4], "units": [16, 32]},
                                 max_parallel=2, root=root, name="keras_bench", progress=False,
                                 echo_output=False)
    wall = time.perf_counter() - t0
    bad = [t.error for t in res.trials if t.status != "complete"]
    assert not bad, bad[0]
    wraps = [((t.finished or 0) - (t.started or 0))
             - (t.outputs["inside_end"] - t.outputs["inside_start"]) for t in res.trials]
    gaps = []
    by_pid: dict[Any, list[Any]] = {}
    for t in res.trials:
        by_pid.setdefault(t.pid, []).append(t)
    for trials in by_pid.values():
        trials.sort(key=lambda t: t.outputs["inside_start"])
        gaps += [b.outputs["inside_start"] - a.outputs["inside_end"] for a, b in zip(trials, trials[1:])]
    inside = [t.outputs["inside_end"] - t.outputs["inside_start"] for t in res.trials]
    return {"wall": wall, "wrap": wraps, "gap": gaps, "inside": inside}


def _rss_mib() -> float:
    for line in open("/proc/self/status").read().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def plain_task(_: Any) -> tuple[float, int, str]:
    import os
    import sys

    return _rss_mib(), os.getpid(), ",".join(sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY)))


def trivial_trial(x: int, with_tensorboardx: bool = False) -> dict[str, Any]:
    import os
    import sys

    from sparkexp import reporter

    if with_tensorboardx:
        import tensorboardX  # noqa: F401 - what recording a trial imported before issue 15
    print("trivial trial", x)
    reporter.log(step=1, loss=1.0 / (x + 1))
    time.sleep(0.3)  # the previous trial's HParams are written while this one runs
    return {"metric": float(x), "rss": _rss_mib(), "pid": os.getpid(),
            "heavy": ",".join(sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY)))}


def worker_rss(with_tensorboardx: bool) -> dict[str, Any]:
    """A fresh local[1] session: a plain task's worker RSS, then the same worker's after 3
    trivial sparkexp trials (the last one reports after the first two were recorded)."""
    from sparkexp import experiment

    spark = session("local[1]", app="sparkexp-bench-rss")
    try:
        sc = spark.sparkContext
        bare, pid, heavy = sc.parallelize([0], 1).map(plain_task).collect()[0]
        root = tempfile.mkdtemp(prefix="sparkexp-bench-rss-")
        res = experiment.grid_search(spark, trivial_trial,
                                     {"x": [0, 1, 2], "with_tensorboardx": [with_tensorboardx]},
                                     max_parallel=1, root=root, name="rss", progress=False,
                                     echo_output=False)
        last = res.trials[-1]
        assert last.status == "complete", last.error
        return {"bare": bare, "bare_pid": pid, "bare_heavy": heavy, "trial": last.outputs["rss"],
                "trial_pid": last.outputs["pid"], "trial_heavy": last.outputs["heavy"]}
    finally:
        spark.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one repeat of the RSS probe")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    repeat = 1 if args.quick else args.repeat
    print(f"# {machine()}")
    try:
        import tensorflow  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        sys.exit(f"needs the frameworks extra (pip install -e '.[frameworks]'): {exc}")

    spark = session("local[2]")
    try:
        stats = keras_grid(spark, tempfile.mkdtemp(prefix="sparkexp-bench-keras-"))
    finally:
        spark.stop()
    ms = [1000 * g for g in stats["gap"]]
    wrap = [1000 * w for w in stats["wrap"]]
    print(f"keras grid: 6 trials in local[2], wall {stats['wall']:.1f} s; inside the function "
          f"median {statistics.median(stats['inside']):.2f} s "
          f"(first trials of a worker import TensorFlow)")
    print(f"sparkexp overhead per trial: gap between trials on a slot median {statistics.median(ms):.1f} ms "
          f"(max {max(ms):.1f}, n={len(ms)}); around the call median {statistics.median(wrap):.1f} ms "
          f"(max {max(wrap):.1f}); goal <= 10 ms")

    for label, with_tbx in (("sparkexp trial", False), ("+ import tensorboardX (before)", True)):
        runs = [worker_rss(with_tbx) for _ in range(repeat)]
        bare = statistics.median(r["bare"] for r in runs)
        trial = statistics.median(r["trial"] for r in runs)
        same = all(r["bare_pid"] == r["trial_pid"] for r in runs)
        print(f"worker RSS, {label}: bare pyspark worker {bare:.0f} MiB -> after trivial trials "
              f"{trial:.0f} MiB (+{trial - bare:.0f} MiB; same worker: {same}; heavy modules "
              f"loaded: {runs[-1]['trial_heavy'] or 'none'}){'; goal <= +100 MB' if not with_tbx else ''}")


if __name__ == "__main__":
    main()
