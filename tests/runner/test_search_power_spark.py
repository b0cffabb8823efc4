"""Hyperopt spaces, conditional spaces, Optuna and several objectives on real local Spark."""

from __future__ import annotations

import json
import os

import numpy as np
from hyperopt import hp
from hyperopt.pyll import scope
from support.search_fns import (
    curve,
    gated,
    latency_limit,
    model_fn,
    nested,
    rising,
    two_objectives,
)

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


def test_optuna_search_keeps_slots_busy_and_resumes_from_the_journal(spark, root, tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "closed").touch()
    space = {"x": [0.0, 1.0], "y": [0.0, 1.0], "gate": str(gate)}
    first = experiment.optuna_search(spark, gated, space, trials=10, sampler="tpe", seed=5,
                                     max_parallel=2, timeout=25, root=root, name="opt")
    assert first.state == "timeout" and 4 <= len(first.completed) < 10
    (gate / "closed").unlink()
    manifest = json.load(open(os.path.join(first.path, "experiment.json")))
    assert manifest["strategy"] == "optuna" and manifest["search"]["sampler"] == "tpe"
    # resume rebuilds the study from the recorded settings, replays the journal's asks and tells
    # (checking every rebuilt proposal) and runs the rest
    done = experiment.resume(spark, first.path, gated)
    assert done.state == "finished" and len(done.trials) == 10
    timed_out = [t.id for t in first.trials if t.status == "timeout"]  # final: not run again
    assert [t.id for t in done.trials if t.status != "complete"] == timed_out
    kept = {t.id: t.params for t in first.completed}
    assert all(done.trials[int(tid[-5:])].params == p for tid, p in kept.items())
    overlap = [(a.started, a.finished) for a in done.trials if a.started]
    assert any(s2 < f1 for (s1, f1), (s2, _) in zip(overlap, overlap[1:]))  # 2 in flight


def test_optuna_pruner_stops_bad_trials_through_reporter_log(spark, root):
    res = experiment.optuna_search(spark, curve, rising, trials=7, sampler="random", seed=0,
                                   pruner="median", metric="loss", direction="min",
                                   pruner_options={"n_startup_trials": 3, "n_warmup_steps": 2},
                                   max_parallel=1, root=root)
    statuses = [t.status for t in res.trials]
    assert statuses[:3] == ["complete"] * 3 and "stopped" in statuses[3:]
    stopped = [t for t in res.trials if t.status == "stopped"]
    assert all(len(t.history) < 8 for t in stopped)
    assert res.manifest["early_stopping"] == {"name": "optuna", "pruner": "median"}


def test_random_search_with_two_objectives_and_constraints(spark, root):
    res = experiment.random_search(spark, two_objectives, {"x": [0.0, 1.0], "y": [0.0, 1.0]},
                                   samples=12, seed=1, metric=["accuracy", "latency"],
                                   direction=["max", "min"], constraints=latency_limit, root=root)
    assert res.best is None and res.objectives.metrics == ("accuracy", "latency")
    front = res.pareto_front
    assert front and all(t.feasible for t in front)
    infeasible = [t for t in res.trials if t.outputs["latency"] > 1.6]
    assert infeasible and all(t.feasible is False and t not in front for t in infeasible)
    assert res.infeasible == infeasible
    feasible = [t for t in res.trials if t.feasible]
    for t in feasible:  # the front is exactly the non-dominated feasible trials
        dominated = any(o.outputs["accuracy"] >= t.outputs["accuracy"]
                        and o.outputs["latency"] <= t.outputs["latency"] and o is not t
                        and (o.outputs["accuracy"], o.outputs["latency"]) != (t.outputs["accuracy"], t.outputs["latency"])
                        for o in feasible)
        assert (t in front) == (not dominated)
    stored = json.load(open(os.path.join(res.path, infeasible[0].id, "trial.json")))
    assert stored["constraints"][0] > 0
    payload = html_payload(experiment.load(res.path))
    assert payload["pareto"] == [t.index for t in front]
    assert payload["objectives"][1] == {"metric": "latency", "direction": "min"}
    assert "Pareto front of accuracy (max), latency (min)" in res.summary()


def test_nsga2_with_two_objectives_and_thresholds_on_spark(spark, root):
    res = experiment.optuna_search(spark, two_objectives, {"x": [0.0, 1.0], "y": [0.0, 1.0]},
                                   trials=8, sampler="nsga2", sampler_options={"population_size": 4},
                                   seed=2, metric=["accuracy", "latency"], direction=["max", "min"],
                                   constraints={"latency": {"max": 1.6}}, root=root)
    assert len(res.completed) == 8 and res.pareto_front
    assert all(t.outputs["latency"] <= 1.6 for t in res.pareto_front)
    assert res.manifest["constraints"] == {"thresholds": {"latency": {"max": 1.6}}}


def test_one_objective_strategies_refuse_several_before_spark_runs(spark, root):
    import pytest

    from sparkexp.errors import ConfigError

    with pytest.raises(ConfigError, match="'tpe' search optimises 1 objective"):
        experiment.bayesian_search(spark, two_objectives, {"x": [0.0, 1.0], "y": [0.0, 1.0]},
                                   trials=4, metric=["accuracy", "latency"], root=root)
    with pytest.raises(ConfigError, match="2 directions"):
        experiment.random_search(spark, two_objectives, {"x": [0.0, 1.0], "y": [0.0, 1.0]},
                                 metric=["accuracy", "latency", "size"], direction=["max", "min"],
                                 root=root)
    assert not os.listdir(root)
