"""In a notebook on local Spark, trial output lands in the cell (executors' output reaches the
kernel's file descriptors): a 6-trial Keras grid shows each trial's last lines, a failed trial
all of its error, and the cell stays small; the full logs are one call away."""

from __future__ import annotations

import os
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("tensorflow")

pytestmark = pytest.mark.slow

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TESTS)

CELLS = [
    # setup
    """\
from pyspark.sql import SparkSession
from sparkexp import experiment
from support.frameworks import keras_mnist, write_mnist_like

spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
root = os.environ["SPARKEXP_PROJECT_ROOT"] + "/"
write_mnist_like(root)
""",
    # the grid: its cell is measured
    """\
res = experiment.grid_search(spark, keras_mnist, {"kernel": [2, 3, 4], "pool": [2, 3], "dropout": [0.3]},
                             name="nb_keras")
print(res.summary())
""",
    # the full logs, one call away
    "print(res.trials[0].stdout())",
    # a failing trial shows all of its error
    """\
def fails(x):
    print("preparing", x)
    if x == 2:
        raise ValueError("the data for x=2 is broken")
    return float(x)

res2 = experiment.grid_search(spark, fails, {"x": [1, 2]}, name="nb_fails", max_parallel=1)
print(res2.summary())
""",
]


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.extend(str(v) for v in out["data"].values())
    return "".join(parts)


def test_a_keras_grid_cell_shows_bounded_output_with_full_logs_one_call_away(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os")] + [nbformat.v4.new_code_cell(c) for c in CELLS]
    env = dict(os.environ)
    # ipykernel forwards the kernel's fds 1/2 (where the JVM and executors write) to the cell,
    # except under pytest: the kernel must not see it is run by a test
    env.pop("PYTEST_CURRENT_TEST", None)
    env.update({
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARKEXP_PROJECT_ROOT": str(root),
        "PYTHONPATH": os.pathsep.join(p for p in (REPO, TESTS, env.get("PYTHONPATH")) if p),
    })
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=600,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{errors[0].get('ename')}: {errors[0].get('evalue')}"
    setup, grid, full, failing = (_text(c) for c in nb.cells[1:])

    assert "experiment nb_keras_1: 6 trials (6 complete)" in grid
    # each trial's last lines, pointing at its full log ...
    for i in range(6):
        assert f"result.trials[{i}].stdout()" in grid, grid[-3000:]
    assert grid.count("Test accuracy:") == 6
    # ... and not the whole of it: the cell stays small
    print(f"cell of the 6-trial Keras grid: {len(grid.encode())} bytes")
    assert len(grid.encode()) < 20_000, len(grid.encode())
    assert "x_train shape" not in grid  # the first lines of a trial are only in its log
    assert "x_train shape: (256, 16, 16, 1)" in full and "Test accuracy:" in full
    # a failed trial: all of its stderr, the traceback included
    assert "ValueError: the data for x=2 is broken" in failing
    assert "Traceback (most recent call last)" in failing
    assert "1 complete, 1 error" in failing
