"""The `make demo` experiment: a small real model tuned on local Spark.

A logistic-regression classifier trained with numpy gradient descent on a synthetic two-moons
data set stored under the project root, tuned by grid search over learning rate and L2
regularisation; each trial logs its learning curve to TensorBoard. Prints the best trial and
where its records are.

Run it with ``make demo`` (or ``python examples/demo.py`` inside the project's venv).
"""

from __future__ import annotations

import os
import sys

import numpy as np


def make_dataset(path: str, n: int = 600, seed: int = 7) -> None:
    """Two interleaved half-moons with noise, written as CSV (x1, x2, label)."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    x1 = np.where(label == 0, np.cos(t), 1 - np.cos(t)) + rng.normal(0, 0.2, n)
    x2 = np.where(label == 0, np.sin(t), 0.5 - np.sin(t)) + rng.normal(0, 0.2, n)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savetxt(path, np.column_stack([x1, x2, label]), delimiter=",", fmt="%.5f")


def train(learning_rate, l2, epochs=200):
    """Train on the project's data set; return validation accuracy and the final loss."""
    from tensorboardX import SummaryWriter

    from sparkexp import hdfs, tensorboard

    data = np.loadtxt(hdfs.project_path() + "Resources/moons.csv", delimiter=",")
    x, y = data[:, :2], data[:, 2]
    # polynomial features make the moons separable enough for a linear model
    feats = np.column_stack([x, x**2, x[:, :1] * x[:, 1:], x**3, np.ones(len(x))])
    split = int(0.75 * len(x))
    xtr, ytr, xva, yva = feats[:split], y[:split], feats[split:], y[split:]
    w = np.zeros(feats.shape[1])
    writer = SummaryWriter(tensorboard.logdir())
    loss = float("nan")
    for epoch in range(epochs):
        p = 1 / (1 + np.exp(-xtr @ w))
        loss = float(-np.mean(ytr * np.log(p + 1e-9) + (1 - ytr) * np.log(1 - p + 1e-9)))
        w -= learning_rate * (xtr.T @ (p - ytr) / len(ytr) + l2 * w)
        if epoch % 20 == 0:
            writer.add_scalar("train/loss", loss, epoch)
    accuracy = float(np.mean(((xva @ w) > 0) == yva))
    writer.add_scalar("val/accuracy", accuracy, epochs)
    writer.close()
    # captured into this trial's stdout.log under the experiment directory
    print(f"learning_rate={learning_rate} l2={l2}: accuracy={accuracy:.3f} loss={loss:.4f}")
    return {"accuracy": accuracy, "loss": loss}


def main() -> int:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from sparkexp import experiment, hdfs

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("sparkexp-demo")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    make_dataset(hdfs.path("Resources/moons.csv"))
    result = experiment.grid_search(
        spark,
        train,
        {"learning_rate": [0.05, 0.2, 0.8], "l2": [0.0, 0.01, 0.1]},
        direction="max",
        metric="accuracy",
        name="demo",
        echo_output=False,
    )
    print()
    print(result.summary())
    best = result.best
    if best is not None:
        print(f"best trial's directory (TensorBoard logdir, trial.json, stdout.log): {best.logdir}")
    spark.stop()
    return 0 if best is not None else 1


if __name__ == "__main__":
    sys.exit(main())
