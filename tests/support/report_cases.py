"""Results for the report tests, built from Trial lists (no Spark needed)."""

from __future__ import annotations

import random

from sparkexp.result import Result
from sparkexp.trial import Trial

__all__ = ["INJECTION", "TRACEBACK", "mixed", "empty", "all_failed", "single", "big", "population"]

INJECTION = "<script>window.__pwned=1</script>"
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/train.py", line 12, in train\n'
    "    loss = model.fit(x)\n"
    "ValueError: loss diverged </script><script>window.__pwned=2</script>\n"
)
T0 = 1_700_000_000.0


def _manifest(name: str, n: int, **extra: object) -> dict[str, object]:
    manifest: dict[str, object] = {
        "name": name,
        "strategy": "random",
        "direction": "max",
        "metric": "accuracy",
        "state": "finished",
        "seed": 7,
        "trials": n,
        "space": {"lr": {"type": "loguniform", "low": 1e-5, "high": 1e-1},
                  "optimizer": ["adam", "sgd", INJECTION]},
        "app_id": "local-1700000000000",
    }
    manifest.update(extra)
    return manifest


def mixed() -> Result:
    """40 trials: 30 complete, 4 error, 1 timeout, 3 stopped, 2 running; categorical params,
    a log-spread param, missing values and a `<script>` injection attempt."""
    rng = random.Random(3)
    trials = []
    optimizers = ["adam", "sgd", INJECTION]
    for i in range(40):
        lr = 10 ** rng.uniform(-5, -1)
        params = {
            "lr": lr,
            "batch_size": rng.choice([16, 32, 64, 128, 256]),
            "optimizer": optimizers[i % 3],
            "dropout": None if i % 11 == 5 else round(rng.uniform(0.0, 0.6), 3),
            "use_bn": i % 2 == 0,
        }
        status = "complete"
        if i in (3, 17, 22, 31):
            status = "error"
        elif i == 9:
            status = "timeout"
        elif i in (12, 25, 33):
            status = "stopped"
        elif i >= 38:
            status = "running"
        started = T0 + i * 20 + rng.uniform(0, 5)
        finished = None if status == "running" else started + rng.uniform(20, 60)
        acc = max(0.0, 0.95 - abs(lr - 0.003) * 5 - params["batch_size"] / 5000 + rng.gauss(0, 0.02))
        t = Trial(
            id=f"trial_{i:05d}", index=i, params=params, status=status,
            metric=round(acc, 4) if status == "complete" else None,
            outputs={"accuracy": round(acc, 4), "loss": round(1 - acc, 4)} if status == "complete" else {},
            error=TRACEBACK if status == "error" else ("trial exceeded its 600 s timeout" if status == "timeout" else None),
            started=started, finished=finished, host=f"worker-{i % 3}", executor=str(i % 3), attempt=1,
        )
        trials.append(t)
    return Result("/proj/Experiments/mnist_3", trials, direction="max", metric="accuracy",
                  manifest=_manifest("mnist", 40))


def empty() -> Result:
    """An experiment that has not run a trial yet."""
    return Result("/proj/Experiments/empty_1", [], manifest={"name": "empty", "state": "running"})


def all_failed() -> Result:
    """Five trials, all errors."""
    trials = [
        Trial(f"trial_{i:05d}", i, {"lr": 0.1 * (i + 1), "act": "relu"}, status="error",
              error=TRACEBACK if i % 2 else "RuntimeError: CUDA out of memory", started=T0 + i, finished=T0 + i + 1)
        for i in range(5)
    ]
    return Result("/proj/Experiments/broken_1", trials, metric="loss", direction="min",
                  manifest=_manifest("broken", 5, direction="min", metric="loss", state="aborted"))


def single() -> Result:
    """One complete trial with one parameter."""
    t = Trial("trial_00000", 0, {"units": 64}, status="complete", metric=0.5, outputs={"metric": 0.5},
              started=T0, finished=T0 + 3)
    return Result("/proj/Experiments/one_1", [t], manifest=_manifest("one", 1))


def population() -> Result:
    """A PBT run: members 0 and 1; 1 is stopped at step 4 and 2 copies 0 with a larger lr;
    2 in turn is copied by 3 (which changes the optimizer too) after 0 was stopped."""

    def trial(i: int, lr: float, opt: str, status: str, metric: float | None,
              origin: dict[str, object] | None = None) -> Trial:
        return Trial(f"trial_{i:05d}", i, {"lr": lr, "optimizer": opt}, status=status, metric=metric,
                     outputs={} if metric is None else {"accuracy": metric}, started=T0 + i,
                     finished=T0 + 10 + i, origin=origin)

    def copy(parent: int, step: int, changed: dict[str, list[object]]) -> dict[str, object]:
        return {"parent": f"trial_{parent:05d}", "step": step, "checkpoint": f"/p/trial_{parent:05d}/ckpt",
                "changed": changed, "t": T0 + 5 + step}

    trials = [
        trial(0, 0.01, "adam", "stopped", 0.6),
        trial(1, 0.001, "sgd", "stopped", 0.3),
        trial(2, 0.012, "adam", "complete", 0.9, copy(0, 4, {"lr": [0.01, 0.012]})),
        trial(3, 0.0096, "sgd", "complete", 0.85, copy(2, 8, {"lr": [0.012, 0.0096], "optimizer": ["adam", "sgd"]})),
    ]
    return Result("/proj/Experiments/pbt_1", trials, manifest=_manifest("pbt", 4, strategy="pbt"))


def big(n: int = 10_000) -> Result:
    """``n`` trials, 3% failed, for the rendering-time check."""
    rng = random.Random(11)
    trials = []
    for i in range(n):
        params = {"lr": 10 ** rng.uniform(-5, -1), "layers": rng.randint(1, 8),
                  "act": rng.choice(["relu", "tanh", "gelu", "silu"]), "dropout": rng.uniform(0, 0.5)}
        failed = rng.random() < 0.03
        trials.append(Trial(
            f"trial_{i:05d}", i, params, status="error" if failed else "complete",
            metric=None if failed else rng.gauss(0.8, 0.05), error=TRACEBACK if failed else None,
            started=T0 + i * 2, finished=T0 + i * 2 + rng.uniform(1, 30), host=f"worker-{i % 8}"))
    return Result("/proj/Experiments/sweep_1", trials, metric="auc", manifest=_manifest("sweep", n, metric="auc"))
