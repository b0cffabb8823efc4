"""Training functions for the search-power tests on Spark (importable by executors)."""

from __future__ import annotations

import time


def nested(optimizer, layers, x, epochs):
    """A hyperopt-style function: ``optimizer`` is a dict whose keys depend on its branch."""
    assert isinstance(optimizer, dict) and isinstance(layers, int)
    bonus = 1.0 if optimizer["name"] == "sgd" else 0.0
    return {"score": bonus - (x - 1) ** 2 - abs(optimizer["lr"] - 0.1), "epochs": epochs}


def model_fn(model, lr, depth=None, kernel=None, degree=None):
    """A conditional space's function: absent parameters keep their defaults."""
    if model == "tree":
        assert depth is not None and kernel is None
        return 1.0 - abs(depth - 4) / 10 - lr
    assert depth is None and kernel is not None
    assert (degree is not None) == (kernel == "poly")
    return 0.5 + (degree or 0) / 10 - lr


def two_objectives(x, y):
    """ZDT1-like, 2-D: accuracy up, latency down; they conflict."""
    time.sleep(0.01)
    return {"accuracy": 1.0 - x, "latency": 1.0 + y + (1 - x) ** 2, "size": x + y}


def curve(x, y, reporter):
    """Reports a learning curve; good (x, y) near (0.3, 0.7) converge lower."""
    base = (x - 0.3) ** 2 + (y - 0.7) ** 2
    loss = 1.0
    for step in range(1, 9):
        loss = base + 1.0 / step
        reporter.log(step=step, loss=loss)
    return {"loss": loss}


def rising(trial):
    """Define-by-run: trial k gets x = k / 10, so later trials have clearly worse curves."""
    trial.suggest_float("y", 0.69, 0.71)
    return {"x": trial.number / 10, "y": 0.7}


def gated(x, y, gate):
    """Once 4 trials finished, later ones wait while ``gate/closed`` exists (an interruption)."""
    import os

    time.sleep(0.2)
    if len(os.listdir(gate)) >= 5:  # 4 results + the "closed" file
        deadline = time.time() + 120
        while os.path.exists(os.path.join(gate, "closed")) and time.time() < deadline:
            time.sleep(0.1)
    with open(os.path.join(gate, f"{x}-{y}"), "w"):
        pass
    return -((x - 0.3) ** 2) - (y - 0.7) ** 2


def latency_limit(outputs):
    """Constraint: latency at most 1.6 (<= 0 when satisfied)."""
    return outputs["latency"] - 1.6
