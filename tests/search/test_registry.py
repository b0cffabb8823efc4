"""One registry of strategies: names agree across the API, the spec and the manifest."""

from __future__ import annotations

import inspect
import json

import pytest

from sparkexp import experiment
from sparkexp.cli._spec import load_spec
from sparkexp.errors import ConfigError
from sparkexp.search import (
    BOHBSearch,
    DifferentialEvolution,
    FixedSearch,
    GridSearch,
    PopulationBasedTraining,
    RandomSearch,
    TPESearch,
)
from sparkexp.search._registry import STRATEGIES, defaults, from_settings, lookup, spec_names
from sparkexp.search.optuna_search import OptunaSearch
from sparkexp.search.stopping import ASHA, Hyperband

SPACE = {"lr": [0.001, 0.1], "dropout": [0.1, 0.5]}


@pytest.mark.parametrize("name, canonical, entry", [
    ("grid", "grid", "grid_search"),
    ("random", "random", "random_search"),
    ("evolutionary", "evolutionary", "evolutionary_search"),
    ("differential_evolution", "evolutionary", "evolutionary_search"),
    ("bayesian", "tpe", "bayesian_search"),
    ("tpe", "tpe", "bayesian_search"),
    ("asha", "asha", "asha_search"),
    ("hyperband", "hyperband", "hyperband_search"),
    ("bohb", "bohb", "bohb_search"),
    ("bohbhyperband", "bohb", "bohb_search"),  # hpogrid's name
    ("pbt", "pbt", "pbt_search"),
    ("launch", "fixed", "launch"),
    ("optuna", "optuna", "optuna_search"),
    # hpogrid's algorithm names
    ("hyperopt", "tpe", "bayesian_search"),
    ("tune", "asha", "asha_search"),
])
def test_every_name_finds_its_row(name, canonical, entry):
    row = lookup(name)
    assert (row.name, row.entry) == (canonical, entry)
    assert callable(getattr(experiment, row.entry))


def test_manifest_names_are_the_search_names():
    built = {"grid": GridSearch({"a": [1]}), "random": RandomSearch(SPACE, seed=0),
             "evolutionary": DifferentialEvolution(SPACE, seed=0), "tpe": TPESearch(SPACE, seed=0),
             "fixed": FixedSearch([{"a": 1}]), "optuna": OptunaSearch(SPACE, trials=3, seed=0),
             "bohb": BOHBSearch(SPACE, trials=5, max_steps=9, seed=0),
             "pbt": PopulationBasedTraining(SPACE, max_steps=10, interval=2, seed=0)}
    for row in STRATEGIES:
        recorded = row.records_as or row.name
        assert built[recorded].name == recorded
        rebuilt = from_settings(recorded, built[recorded].settings())
        assert rebuilt.settings() == built[recorded].settings()


def test_unknown_strategy_lists_every_accepted_name():
    with pytest.raises(ConfigError) as info:
        lookup("hillclimb")
    assert str(info.value) == ("unknown strategy 'hillclimb'; accepted: grid, random, "
                               "evolutionary, tpe, optuna, asha, hyperband, bohb, pbt, "
                               "differential_evolution, bayesian, hyperopt, tune, bohbhyperband")
    assert "launch" not in spec_names()


@pytest.mark.parametrize("name, message", [
    ("skopt", r"strategy 'skopt' \(scikit-optimize\) is not available in sparkexp; accepted: grid"),
])
def test_hpogrid_names_without_a_strategy_say_so(name, message):
    with pytest.raises(ConfigError, match=message):
        lookup(name)


@pytest.mark.parametrize("cls, entry, required", [
    (GridSearch, experiment.grid_search, ()), (RandomSearch, experiment.random_search, ()),
    (DifferentialEvolution, experiment.evolutionary_search, ()),
    (TPESearch, experiment.bayesian_search, ()),
    (ASHA, experiment.asha_search, ("max_steps",)), (Hyperband, experiment.hyperband_search, ()),
    (BOHBSearch, experiment.bohb_search, ()),
    (PopulationBasedTraining, experiment.pbt_search, ("population",)),
])
def test_entry_points_show_the_class_defaults(cls, entry, required):
    # ``required``: defaulted in the class, but an entry point's user must choose them
    own = inspect.signature(entry).parameters
    shared = {k: v for k, v in defaults(cls).items() if k in own and k not in required}
    assert shared and all(own[k].default == v for k, v in shared.items())
    assert all(own[k].default is inspect.Parameter.empty for k in required)
    assert DifferentialEvolution(SPACE).mode == inspect.signature(
        experiment.evolutionary_search).parameters["mode"].default == "async"


@pytest.mark.parametrize("strategy, recorded", [("differential_evolution", "evolutionary"),
                                                ("tpe", "tpe"), ("bayesian", "tpe")])
def test_a_spec_accepts_the_python_and_manifest_names(tmp_path, strategy, recorded):
    module = f"registry_model_{strategy}"  # a module name per case: specs import it by name
    (tmp_path / f"{module}.py").write_text("def train(lr, dropout):\n    return lr - dropout\n")
    (tmp_path / "spec.json").write_text(json.dumps(
        {"function": f"{module}.py:train", "strategy": strategy, "space": SPACE}))
    spec = load_spec(str(tmp_path / "spec.json"))
    assert lookup(spec.strategy).name == recorded
    assert spec.entry == lookup(recorded).entry
