"""RunOptions: one declaration of every run option, validated, and kept whole by resume."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from sparkexp import experiment
from sparkexp.errors import ConfigError
from sparkexp.options import OPTION_NAMES, RunOptions
from sparkexp.search.stopping import ASHA

#: a value other than the default for every field (the round trip must keep each one)
NON_DEFAULT = {
    "direction": "min",
    "metric": "loss",
    "max_parallel": 2,
    "root": "/tmp/somewhere",
    "target": 0.25,
    "timeout": 120.0,
    "trial_timeout": 30.0,
    "early_stopping": {"name": "median", "grace_steps": 2, "min_trials": 4},
    "max_trial_retries": 2,
    "max_failures": 3,
    "fail_fast": False,
    "kill_grace": 1.5,
    "echo_output": False,
    "gpus_per_trial": 0,
    "cpus_per_trial": 1,
    "local_logdir": True,
    "keep_checkpoints": 5,
    "description": "lr sweep for the MNIST baseline",
    "constraints": {"latency": {"max": 120.0}},
    "mlflow": "http://127.0.0.1:5000",
}


def test_the_round_trip_covers_every_field():
    assert set(NON_DEFAULT) == set(OPTION_NAMES)
    defaults = RunOptions()
    for field in dataclasses.fields(RunOptions):
        if field.name != "fail_fast":  # False is both the default and the only value kept
            assert NON_DEFAULT[field.name] != getattr(defaults, field.name), field.name
    options = RunOptions(**NON_DEFAULT)
    manifest = json.loads(json.dumps(options.to_manifest()))  # as experiment.json holds it
    assert RunOptions.from_manifest(manifest) == options


def test_fail_fast_round_trips_and_means_one_failure():
    options = RunOptions(fail_fast=True)
    assert options.max_failures == 1
    assert RunOptions.from_manifest(options.to_manifest()) == options


def test_asha_string_round_trips_with_its_defaults():
    options = RunOptions(early_stopping="asha")
    recorded = options.to_manifest()["early_stopping"]
    assert recorded == {"name": "asha", "max_steps": None, "min_steps": 1, "reduction_factor": 3,
                        "rungs": [1]}
    rebuilt = RunOptions.from_manifest(options.to_manifest()).stopper()
    assert isinstance(rebuilt, ASHA) and (rebuilt.max_steps, rebuilt.min_steps) == (None, 1)


@pytest.mark.parametrize("changes, message", [
    ({"max_parallel": 0}, "max_parallel must be a positive whole number, got 0"),
    ({"kill_grace": -1}, "kill_grace must be a positive number of seconds, got -1"),
    ({"echo_output": "no"}, "echo_output must be True, False, 'tail' or 'auto', got 'no'"),
    ({"gpus_per_trial": -1}, "gpus_per_trial must be a whole number >= 0, got -1"),
    ({"early_stopping": "patience"}, "early_stopping must be 'median', 'asha'"),
    ({"direction": "up"}, "direction must be 'max' or 'min', got 'up'"),
    ({"timeout_s": 3}, "unknown option 'timeout_s'; accepted: direction, metric"),
])
def test_bad_options_are_one_line_errors(changes, message):
    with pytest.raises(ConfigError) as info:
        RunOptions().replace(**changes)
    assert message in str(info.value) and "\n" not in str(info.value)


def within_budget(outputs):
    """An importable constraints function (resume imports it again by its reference)."""
    return outputs["latency"] - 100


def test_several_objectives_and_a_constraints_function_round_trip():
    options = RunOptions(metric=["accuracy", "latency"], direction=["max", "min"],
                         constraints=within_budget)
    assert (options.metric, options.direction) == (("accuracy", "latency"), ("max", "min"))
    manifest = json.loads(json.dumps(options.to_manifest()))
    # readers of one metric see the first objective; all of them are under "objectives"
    assert (manifest["metric"], manifest["direction"]) == ("accuracy", "max")
    assert manifest["objectives"] == [{"metric": "accuracy", "direction": "max"},
                                      {"metric": "latency", "direction": "min"}]
    assert manifest["constraints"] == {"function": f"{__name__}:within_budget"}
    rebuilt = RunOptions.from_manifest(manifest)
    assert rebuilt == options and rebuilt.constraints is within_budget
    assert rebuilt.constraint_rule.evaluate({"latency": 120}) == [20.0]


def test_a_constraints_lambda_is_not_kept_and_resume_says_so():
    manifest = json.loads(json.dumps(RunOptions(constraints=lambda out: out["latency"] - 1).to_manifest()))
    assert manifest["constraints"] == {"function": None}
    with pytest.raises(ConfigError, match="pass constraints= to resume"):
        RunOptions.from_manifest(manifest)
    given = {**RunOptions.recorded(manifest), "constraints": {"latency": {"max": 1}}}
    assert RunOptions(**given).constraints == {"latency": {"max": 1.0}}


@pytest.mark.parametrize("changes, message", [
    ({"metric": ["accuracy"]}, "metric must be the name of an output"),
    ({"direction": ["max", "min"]}, r"direction=\['max', 'min'\] is a list but metric=None is not"),
    ({"metric": ["a", "b"], "direction": ["max"]}, r"1 directions \['max'\] for 2 metrics"),
    ({"metric": ["a", "a"]}, "metric 'a' is listed twice"),
    ({"metric": ["a", "b"], "target": 0.9}, "target needs one objective"),
    ({"metric": ["a", "b"], "early_stopping": "median"}, "early_stopping needs one objective"),
    ({"constraints": {"latency": {"below": 3}}}, "constraint on 'latency' must be a dict with 'min'"),
    ({"constraints": 3}, "constraints must be a function of the outputs"),
])
def test_bad_objectives_and_constraints_are_one_line_errors(changes, message):
    with pytest.raises(ConfigError, match=message) as info:
        RunOptions(**changes)
    assert "\n" not in str(info.value)


def test_options_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RunOptions().timeout = 3  # type: ignore[misc]


def naps(x):
    time.sleep(0.4)
    return x


def test_resume_keeps_every_option(spark, root, tmp_path):
    # a timeout leaves the grid unfinished (state "timeout"), so it can be resumed. The metric
    # is named: the manifest's "metric" is the name the runner found, None when no trial ended
    # within the first second (a loaded machine), which would differ from the resumed run's
    given = {**NON_DEFAULT, "root": root, "metric": "metric", "direction": "max", "target": None,
             "max_parallel": 1, "timeout": 1.0, "trial_timeout": 5.0, "early_stopping": "median",
             "max_failures": 3, "max_trial_retries": 1, "constraints": {"metric": {"max": 100}},
             "mlflow": False}
    first = experiment.grid_search(spark, naps, {"x": list(range(12))}, name="keep", **given)
    assert first.state == "timeout"
    before = RunOptions.recorded(first.manifest)
    assert set(before) == set(OPTION_NAMES)
    again = experiment.resume(spark, first.path, naps)
    after = RunOptions.recorded(again.manifest)
    assert after == before
    assert (after["gpus_per_trial"], after["cpus_per_trial"], after["local_logdir"],
            after["kill_grace"], after["echo_output"]) == (0, 1, True, 1.5, False)
    assert again.path == first.path and len(again.manifest["resumed"]) == 1
