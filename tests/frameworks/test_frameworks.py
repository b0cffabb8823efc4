"""Real frameworks in trials: hops-examples' Keras and PyTorch notebooks ported unchanged
(imports, and ``spark`` as the first argument), on real local[2] Spark, with data the test
makes. Needs the ``frameworks`` extra (``make test`` installs it)."""

from __future__ import annotations

import glob
import os

import pytest
from support.frameworks import keras_mnist, pytorch_mnist, sklearn_svc, write_mnist_like

from sparkexp import experiment

pytestmark = pytest.mark.slow


@pytest.fixture()
def project(root):
    write_mnist_like(root)
    return root


def test_keras_evolutionary_search_notebook_ported_unchanged(spark, project):
    pytest.importorskip("tensorflow")
    search_dict = {'kernel': [2, 4], 'pool': [2, 3], 'dropout': [0.01, 0.99]}
    # the notebook's call, with spark first and a smaller budget (hops' defaults: 4 x 6)
    res = experiment.differential_evolution(spark, keras_mnist, search_dict,
                                            name='keras mnist diff evo', local_logdir=True,
                                            generations=1, population=3, root=project)
    logdir, best_params, return_dict = res
    assert [t.status for t in res.trials] == ["complete"] * len(res.trials), [t.error for t in res.trials]
    assert 3 <= len(res.trials) <= 6
    assert logdir.endswith("Experiments/keras-mnist-diff-evo_1")
    assert 0.0 <= return_dict["metric"] <= 1.0 and best_params == res.best_params
    for t in res.trials:
        # Keras' TensorBoard callback and checkpoints went to tensorboard.logdir() (local,
        # copied into the trial folder), next to sparkexp's HParams
        assert glob.glob(os.path.join(t.logdir, "train", "events.out.tfevents.*"))
        assert glob.glob(os.path.join(t.logdir, "validation", "events.out.tfevents.*"))
        assert os.path.exists(os.path.join(t.logdir, "checkpoint-1.keras"))
        assert glob.glob(os.path.join(t.logdir, "*.~hparams"))
        out = t.stdout()
        assert "256 train samples" in out and "Test accuracy:" in out
        assert "Logging error" not in t.stderr()


def test_pytorch_differential_evolution_notebook_ported_unchanged(spark, project):
    pytest.importorskip("torch")
    search_dict = {'lr': [0.1, 0.001], 'momentum': [0.1, 0.9]}  # the notebook's, high-first
    res = experiment.differential_evolution(spark, pytorch_mnist, search_dict, generations=1,
                                            population=3, local_logdir=True, direction='max',
                                            root=project)
    logdir, best_params, return_dict = res
    assert [t.status for t in res.trials] == ["complete"] * len(res.trials), [t.error for t in res.trials]
    assert all(0.001 <= t.params["lr"] <= 0.1 for t in res.trials)
    assert return_dict["metric"] > 10.0  # better than chance: the net learned the columns
    for t in res.trials:
        assert os.path.exists(os.path.join(t.logdir, "mnist_cnn.pt"))
        out = t.stdout()
        assert "Copying dataset to Spark executor working directory" in out  # hdfs.log
        assert "Test set: Average loss:" in out


def test_scikit_learn_random_search(spark, root):
    pytest.importorskip("sklearn")
    res = experiment.random_search(spark, sklearn_svc, {"C": [0.1, 10.0], "gamma": ["scale", "auto"]},
                                   samples=4, seed=1, metric="accuracy", root=root)
    assert [t.status for t in res.trials] == ["complete"] * 4, [t.error for t in res.trials]
    assert res.best_metric > 0.7
    assert all("a library warning from C=" in t.stderr() for t in res.trials)
