"""A driver script for the never-idle test: one slow trial and five short ones on two slots of a
fresh local[2] session; prints the trials' (duration, started, finished, pid) as JSON.

Run in its own session so that it measures the scheduling alone, whatever earlier tests left in
the shared one (a task slot was once seen held there by a killed slot task: see the note in
tests/test_experiment.py).
"""

from __future__ import annotations

import json
import sys
import time


def sleepy(duration):
    time.sleep(duration)
    return duration


def main(root: str) -> None:
    from sparkexp import experiment
    from support.spark import script_session

    spark = script_session()
    res = experiment.grid_search(spark, sleepy, {"duration": [1.5, 0.1, 0.1, 0.1, 0.1, 0.1]},
                                 max_parallel=2, root=root, progress=False)
    print("RESULT " + json.dumps([[t.params["duration"], t.started, t.finished, t.pid] for t in res.trials]),
          flush=True)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
