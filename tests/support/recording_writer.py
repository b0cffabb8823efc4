"""A driver's recorder writing big records until it is killed (tests/runner/test_recorder.py).

Usage: ``python recording_writer.py EXPERIMENT_PATH SIZE``. Version ``v`` of trial_00000 has
outputs ``{"version": v, "blob": "<v % 10> * SIZE"}``; each version also journals one report
``{"step": v, "blob": ...}`` of SIZE // 4 characters. Prints ``started`` once the first version
is on disk, then writes versions as fast as it can.
"""

from __future__ import annotations

import sys

from sparkexp.journal import TrialProposed, TrialReported
from sparkexp.runner.recorder import Recorder
from sparkexp.store import ExperimentStore
from sparkexp.trial import Trial


def main(path: str, size: int) -> None:
    store = ExperimentStore(path)
    recorder = Recorder(store)
    trial = Trial(id="trial_00000", index=0, params={"lr": 0.1}, status="running")
    recorder.submit([TrialProposed(trial.id, 0, trial.params, None, 0.0)], [])
    version = 0
    while True:
        trial.outputs = {"version": version, "blob": str(version % 10) * size}
        report = TrialReported(trial.id, {"step": version, "blob": str(version % 10) * (size // 4)})
        recorder.submit([report], [trial])
        recorder.flush()
        if version == 0:
            print("started", flush=True)
        version += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
