"""Training functions of the dashboard tests (importable by executors and by the ``sparkexp
retry`` child process the dashboard starts: the manifest records ``support.dashboard_jobs:<fn>``)."""

from __future__ import annotations

import os
import time

from sparkexp import reporter


def learner(lr, layers, marker_dir):
    """Reports a learning curve, prints to stdout and stderr; odd layers fail on their first run
    (a marker file remembers the run, so a retry succeeds)."""
    marker = os.path.join(marker_dir, f"ran-{lr}-{layers}")
    print(f"training lr={lr} layers={layers}", flush=True)
    for step in range(4):
        reporter.log(step=step, accuracy=lr * layers * (step + 1) / 4, loss=1.0 / (step + 1))
    if layers % 2 and not os.path.exists(marker):
        open(marker, "w").close()
        raise ValueError(f"diverged at lr={lr}")
    return {"accuracy": lr * layers, "loss": 0.25}


def slow_learner(lr, pause):
    """Runs 12 steps of ``pause`` s, reporting and printing each (for live pages: long enough
    that a page opening a running trial's logs sees them grow, even on a loaded machine)."""
    for step in range(12):
        print(f"step {step} lr={lr}", flush=True)
        reporter.log(step=step, accuracy=lr * (step + 1))
        time.sleep(pause)
    return {"accuracy": lr * 12}
