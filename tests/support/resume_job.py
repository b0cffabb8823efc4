"""A driver script for the resume tests: run it, SIGKILL it mid-experiment, resume it."""

from __future__ import annotations

import sys
import time

BOUNDS = {"x": [0.0, 1.0], "y": [0.0, 1.0]}
DE = {"generations": 3, "population": 4, "mode": "generational"}


def objective(x, y):
    time.sleep(0.3)
    return -((x - 0.3) ** 2) - (y - 0.6) ** 2


def main(root: str, name: str, seed: int) -> None:
    from sparkexp import experiment
    from support.spark import script_session

    spark = script_session()  # classic local[2], or a Spark Connect client (support.spark)
    experiment.evolutionary_search(spark, objective, BOUNDS, seed=seed, root=root, name=name,
                                   max_parallel=2, progress=False, **DE)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
