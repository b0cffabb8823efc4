"""A driver appending big journal events until it is killed (tests/test_store.py).

Usage: ``python journal_writer.py EXPERIMENT_PATH SIZE``. Appends report ``k`` of trial_00000,
``{"step": k, "blob": "<k % 10> * SIZE"}``, one event per append (``sync=False``: as fast
as appends go); prints ``started`` once the first is on disk.
"""

from __future__ import annotations

import sys

from sparkexp.store import ExperimentStore


def main(path: str, size: int) -> None:
    store = ExperimentStore(path)
    step = 0
    while True:
        store.append_events([{"e": "report", "id": "trial_00000",
                              "r": {"step": step, "blob": str(step % 10) * size}}], sync=False)
        if step == 0:
            print("started", flush=True)
        step += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
