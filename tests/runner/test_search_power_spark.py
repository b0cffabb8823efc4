"""Hyperopt spaces, conditional spaces, Optuna and several objectives on real local Spark."""

from __future__ import annotations

import json
import os

import numpy as np
from hyperopt import hp
from hyperopt.pyll import scope
from support.search_fns import model_fn, nested

from sparkexp import experiment
from sparkexp.report._data import html_payload

HSPACE = {
    "optimizer": hp.choice("optimizer", [
        {"name": "adam", "lr": hp.loguniform("adam_lr", np.log(1e-3), np.log(1.0))},
        {"name": "sgd", "lr": hp.uniform("sgd_lr", 0.0, 0.5), "momentum": hp.uniform("mom", 0, 0.9)},
    ]),
    "layers": scope.int(hp.quniform("layers", 1, 4, 1)),
    "x": hp.uniform("x", -2, 2),
    "epochs": 3,
}


def test_bayesian_search_over_a_nested_hyperopt_space_and_resume(spark, root):
    res = experiment.bayesian_search(spark, nested, HSPACE, trials=8, n_startup=4, seed=7,
                                     metric="score", root=root, name="hopt")
    assert [t.status for t in res.trials] == ["complete"] * 8
    for t in res.trials:
        assert isinstance(t.params["optimizer"], dict) and isinstance(t.params["layers"], int)
        assert ("momentum" in t.params["optimizer"]) == (t.params["optimizer"]["name"] == "sgd")
        assert t.outputs["epochs"] == 3
    recorded = json.load(open(os.path.join(res.path, "trial_00003", "trial.json")))
    assert recorded["params"] == res.trials[3].params
    manifest = json.load(open(os.path.join(res.path, "experiment.json")))
    assert "$hyperopt" in manifest["search"]["space"]
    # a retry rebuilds TPE from the recorded hyperopt space and replays (and checks) the journal
    retried = experiment.resume(spark, res.path, nested, _rerun=["trial_00005"])
    assert [t.params for t in retried.trials] == [t.params for t in res.trials]
    assert retried.trials[5].attempt == 2
    again = experiment.random_search(spark, nested, HSPACE, samples=4, seed=3, metric="score",
                                     root=root, name="hrand")
    assert [t.params for t in again.trials] == [t.params for t in experiment.random_search(
        spark, nested, HSPACE, samples=4, seed=3, metric="score", root=root, max_parallel=1).trials]


def test_grid_over_a_conditional_space_records_absent_parameters_as_absent(spark, root):
    grid = {"model": ["tree", "svm"],
            "depth": {"values": [2, 4], "when": {"model": "tree"}},
            "kernel": {"values": ["rbf", "poly"], "when": {"model": "svm"}},
            "degree": {"values": [2, 3], "when": {"kernel": "poly"}},
            "lr": [0.01]}
    res = experiment.grid_search(spark, model_fn, grid, root=root, name="cond")
    assert [t.status for t in res.trials] == ["complete"] * 5
    assert [t.params for t in res.trials] == [
        {"model": "tree", "depth": 2, "lr": 0.01}, {"model": "tree", "depth": 4, "lr": 0.01},
        {"model": "svm", "kernel": "rbf", "lr": 0.01},
        {"model": "svm", "kernel": "poly", "degree": 2, "lr": 0.01},
        {"model": "svm", "kernel": "poly", "degree": 3, "lr": 0.01}]
    stored = json.load(open(os.path.join(res.path, "trial_00002", "trial.json")))
    assert "depth" not in stored["params"] and "degree" not in stored["params"]
    payload = html_payload(experiment.load(res.path))
    names = [p["name"] for p in payload["params"]]
    depth = payload["trials"][2]["params"][names.index("depth")]
    kernel_spec = payload["params"][names.index("kernel")]
    assert depth is None and "None" not in kernel_spec["categories"]
    assert payload["trials"][0]["params"][names.index("kernel")] is None
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    acc = EventAccumulator(os.path.join(res.path, "trial_00002"))
    acc.Reload()
    raw = acc.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    hparams = plugin_data_pb2.HParamsPluginData.FromString(raw).session_start_info.hparams
    assert set(hparams) == {"model", "kernel", "lr", "trial_status"}
    # resume: the recorded grid gives the same names (conditional ones optional)
    again = experiment.resume(spark, res.path, model_fn, _rerun=["trial_00001"])
    assert again.trials[1].params == res.trials[1].params and again.trials[1].attempt == 2
