"""Specs: hpogrid algorithm names, Optuna, several objectives and conditional YAML spaces."""

from __future__ import annotations

import json

import pytest

from sparkexp.cli._spec import SpecError, load_spec
from sparkexp.search._registry import lookup

MODEL = """
def train(model, lr, depth=None):
    return {"accuracy": 1 - lr, "latency": 3.0}
"""


def _spec(tmp_path, name="spec.json", **fields):
    # one module name per test: a spec's function file is imported by name
    module = "model_" + "".join(c if c.isalnum() else "_" for c in tmp_path.name)
    (tmp_path / f"{module}.py").write_text(MODEL)
    if "text" in fields:
        fields["text"] = fields["text"].replace("model.py", f"{module}.py")
    data = {"function": f"{module}.py:train", "space": {"model": ["tree", "svm"], "lr": [0.01, 0.1]},
            **fields}
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(data))
    else:
        path.write_text(fields.pop("text"))
    return str(path)


@pytest.mark.parametrize("written, strategy, entry", [
    ("hyperopt", "tpe", "bayesian_search"), ("tpe", "tpe", "bayesian_search"),
    ("bayesian", "tpe", "bayesian_search"), ("random", "random", "random_search"),
    ("optuna", "optuna", "optuna_search"),
])
def test_hpogrid_names_map_to_strategies(tmp_path, written, strategy, entry):
    spec = load_spec(_spec(tmp_path, strategy=written))
    # the spec keeps the name as written; the registry says what runs it
    assert (spec.strategy, lookup(spec.strategy).name, spec.entry) == (written, strategy, entry)


def test_tune_is_asha(tmp_path):
    spec = load_spec(_spec(tmp_path, strategy="tune", options={"samples": 9, "max_steps": 9}))
    assert (lookup(spec.strategy).name, spec.entry) == ("asha", "asha_search")


@pytest.mark.parametrize("written, message", [
    ("skopt", r"strategy 'skopt' \(scikit-optimize\) is not available in sparkexp; accepted: grid"),
    ("ax", r"strategy 'ax' \(Ax\) is not available in sparkexp"),
    ("smac", "unknown strategy 'smac'; accepted: grid, random, evolutionary, tpe, optuna, asha, "
             "hyperband, bohb, pbt, differential_evolution, bayesian, hyperopt, tune, bohbhyperband"),
])
def test_missing_algorithms_get_one_line_errors(tmp_path, written, message):
    with pytest.raises(SpecError, match=message) as info:
        load_spec(_spec(tmp_path, strategy=written))
    assert "\n" not in str(info.value)


def test_optuna_spec_with_two_objectives_constraints_and_a_conditional_yaml_space(tmp_path):
    text = """
function: model.py:train
strategy: optuna
metric: [accuracy, latency]
direction: [max, min]
space:
  model: [tree, svm]
  lr: [0.01, 0.1]
  depth: {values: [2, 8], when: {model: tree}}
options:
  trials: 12
  sampler: nsga2
  sampler_options: {population_size: 4}
  constraints: {latency: {max: 5}}
"""
    spec = load_spec(_spec(tmp_path, name="spec.yaml", text=text))
    assert spec.metric == ["accuracy", "latency"] and spec.direction == ["max", "min"]
    assert spec.param_names == ["model", "lr", "depth"]
    assert spec.options["sampler"] == "nsga2"


@pytest.mark.parametrize("fields, message", [
    ({"strategy": "optuna", "options": {"sampler": "anneal"}}, "unknown sampler 'anneal'"),
    ({"strategy": "random", "metric": ["accuracy", "latency"], "direction": ["max"]},
     r"1 directions \['max'\] for 2 metrics"),
    ({"strategy": "random", "space": {"model": ["tree"], "lr": [0.01, 0.1],
                                      "depth": {"values": [2], "when": {"model": "svm"}}}},
     "can never hold"),
])
def test_bad_specs(tmp_path, fields, message):
    with pytest.raises(SpecError, match=message):
        load_spec(_spec(tmp_path, **fields))
