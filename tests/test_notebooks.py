"""The notebooks in ``notebooks/`` run top to bottom in a real Jupyter kernel, in order.

01-03 run experiments on local Spark; 04 reads what they recorded (no Spark). Each must finish
without an error cell and show its best trial.
"""

from __future__ import annotations

import os
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = os.path.join(REPO, "notebooks")


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


def _run(name: str, workdir: str, env: dict[str, str]):
    nb = nbformat.read(os.path.join(NOTEBOOKS, name), as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                                     resources={"metadata": {"path": workdir}})
    client.execute(env=env)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    return nb, "\n".join(_text(c) for c in nb.cells if c.cell_type == "code")


def test_notebooks_run_in_order(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    env = dict(os.environ)
    env.update({
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARKEXP_PROJECT_ROOT": str(root),
        "PYTHONPATH": os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH")) if p),
    })
    names = sorted(n for n in os.listdir(NOTEBOOKS) if n.endswith(".ipynb"))
    assert len(names) >= 4, names
    outputs = {}
    for name in names:
        _, outputs[name] = _run(name, str(tmp_path), env)

    assert "experiment nb_grid_1: 6 trials (6 complete)" in outputs["01-grid-search.ipynb"]
    assert "best accuracy=" in outputs["01-grid-search.ipynb"]
    assert "experiment nb_evolution_1:" in outputs["02-evolutionary-search.ipynb"]
    assert "best accuracy=" in outputs["02-evolutionary-search.ipynb"]
    bayes = outputs["03-bayesian-early-stopping.ipynb"]
    assert "experiment nb_bayes_1: 10 trials" in bayes and "best accuracy=" in bayes
    assert "'step': 120" in bayes  # the best trial's last report, read back from its history
    reading = outputs["04-reading-experiments.ipynb"]
    for name in ("nb_grid_1", "nb_evolution_1", "nb_bayes_1"):
        assert name in reading
    assert (tmp_path / "report.html").read_text().lower().lstrip().startswith("<!doctype html")
