"""A driver script for the operate tests: a long experiment to watch, kill and retry."""

from __future__ import annotations

import json
import sys
import time


def slow_learner(rate):
    """Prints its progress as JSON lines, as a script that cannot import sparkexp would."""
    for step in range(1, 200):
        print(json.dumps({"step": step, "acc": rate * step / 200}))
        time.sleep(0.05)
    return {"acc": rate}


def main(root: str, name: str) -> None:
    from sparkexp import experiment
    from support.spark import script_session

    spark = script_session()  # classic local[2], or a Spark Connect client (support.spark)
    res = experiment.grid_search(spark, slow_learner, {"rate": [0.5, 0.6, 0.7, 0.8]}, root=root,
                                 name=name, metric="acc", max_parallel=2, progress=False)
    print("RESULT", res.state, len(res.trials), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
