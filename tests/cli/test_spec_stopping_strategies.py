"""Specs for the strategies that stop trials themselves: hyperband, bohb, pbt (no Spark)."""

from __future__ import annotations

import json
import uuid

import pytest

from sparkexp.cli._spec import SpecError, load_spec

TRAIN = "def train(lr, reporter):\n    return lr\n"


def spec(tmp_path, strategy, options):
    module = f"model_{uuid.uuid4().hex[:8]}"  # a module name is imported once per process
    (tmp_path / f"{module}.py").write_text(TRAIN)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"function": f"{module}.py:train", "strategy": strategy,
                                "space": {"lr": [0.001, 0.1]}, "options": options}))
    return str(path)


@pytest.mark.parametrize("strategy, options", [
    ("hyperband", {"samples": 9, "max_steps": 27, "min_steps": 3}),
    ("bohb", {"trials": 9, "max_steps": 27, "random_fraction": 0.5}),
    ("pbt", {"population": 2, "max_steps": 20, "interval": 4, "keep_checkpoints": 2}),
])
def test_each_new_strategy_loads(tmp_path, strategy, options):
    loaded = load_spec(spec(tmp_path, strategy, options))
    assert loaded.strategy == strategy and loaded.param_names == ["lr"]


@pytest.mark.parametrize("strategy, options, match", [
    ("pbt", {"population": 2, "max_steps": 20}, "needs options interval"),
    ("pbt", {"population": 2, "max_steps": 20, "interval": 20}, "interval .20. must be below"),
    ("bohb", {"trials": 9, "max_steps": 27, "early_stopping": "median"}, "unknown option 'early_stopping'"),
    ("hyperband", {"samples": 9, "max_steps": 27, "min_steps": 3, "brackets": 9}, "brackets must be at most"),
])
def test_bad_options_are_one_line_errors_before_spark(tmp_path, strategy, options, match):
    with pytest.raises(SpecError, match=match):
        load_spec(spec(tmp_path, strategy, options))
