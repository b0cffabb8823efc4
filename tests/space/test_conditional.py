"""Conditional parameters in sparkexp's own space format (dict, JSON, YAML, Python)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sparkexp.errors import SearchSpaceError
from sparkexp.space import Space, conditional, loguniform, uniformint

RAW = {
    "model": ["tree", "svm", "linear"],
    "depth": {"values": [2, 8], "when": {"model": ["tree"]}},
    "criterion": {"values": ["gini", "entropy"], "when": {"model": "tree"}},
    "C": {"method": "loguniform", "dimension": {"low": 0.01, "high": 10}, "when": {"model": ["svm", "linear"]}},
    "kernel": {"values": ["rbf", "poly"], "when": {"model": "svm"}},
    "degree": {"values": [2, 4], "when": {"kernel": "poly"}},
    "seed": 3,
}


def _ok(space: Space, p: dict) -> None:
    model = p["model"]
    assert ("depth" in p) == ("criterion" in p) == (model == "tree")
    assert ("C" in p) == (model in ("svm", "linear"))
    assert ("kernel" in p) == (model == "svm")
    assert ("degree" in p) == (p.get("kernel") == "poly")
    assert p["seed"] == 3
    assert space.check(p) == p


def test_samples_hold_exactly_the_active_parameters():
    s = Space(RAW)
    assert s.optional_names == ["depth", "criterion", "C", "kernel", "degree"]
    seen = set()
    for i in range(200):
        p = s.sample(np.random.default_rng(i))
        _ok(s, p)
        seen.add(tuple(sorted(p)))
    assert len(seen) == 4  # tree, svm+rbf, svm+poly, linear


def test_python_form_equals_dict_form_and_json_round_trip():
    py = Space({"model": ["tree", "svm", "linear"],
                "depth": conditional([2, 8], when={"model": ["tree"]}),
                "criterion": conditional(["gini", "entropy"], when={"model": "tree"}),
                "C": conditional(loguniform(0.01, 10), when={"model": ["svm", "linear"]}),
                "kernel": conditional(["rbf", "poly"], when={"model": "svm"}),
                "degree": conditional([2, 4], when={"kernel": "poly"}),
                "seed": 3})
    s = Space(RAW)
    assert py == s
    again = Space.from_json(json.loads(s.to_json()))
    assert again == s and again.conditions == s.conditions
    assert Space.from_json(s.to_json()) != Space({k: v for k, v in RAW.items() if k != "degree"})


def test_unit_vector_round_trip_leaves_absent_out():
    s = Space({"model": ["tree", "svm"], "depth": conditional(uniformint(2, 8), when={"model": "tree"})})
    assert s.from_unit([0.9, 0.1]) == {"model": "svm"}
    assert s.from_unit([0.1, 0.99]) == {"model": "tree", "depth": 8}
    assert s.to_unit({"model": "svm"}).tolist() == [0.75, 0.5]
    assert s.key({"model": "svm"}) == (1, None)


def test_check_names_absent_and_missing_parameters():
    s = Space(RAW)
    with pytest.raises(SearchSpaceError, match="gives 'depth', which exists only when model in"):
        s.check({"model": "svm", "C": 1.0, "kernel": "rbf", "depth": 3})
    with pytest.raises(SearchSpaceError, match="lacks hyperparameter 'kernel'"):
        s.check({"model": "svm", "C": 1.0})


@pytest.mark.parametrize("raw, message", [
    ({"depth": {"values": [2, 8], "when": {"model": "tree"}}, "model": ["tree"]},
     "conditional on 'model', which comes after it"),
    ({"model": ["tree"], "depth": {"values": [2, 8], "when": {"modl": "tree"}}},
     "conditional on 'modl', which is not in the space"),
    ({"model": ["tree"], "depth": {"values": [2, 8], "when": {"model": "forest"}}},
     r"when \{'model': 'forest'\} can never hold"),
    ({"lr": [0.1, 0.2], "depth": {"values": [2, 8], "when": {"lr": 0.1}}}, "names a choice"),
    ({"model": ["tree"], "depth": {"range": [2, 8], "when": {"model": "tree"}}},
     "has 'when' but neither 'values' nor 'method'"),
    ({"model": ["tree"], "depth": {"values": [2, 8], "when": {}}}, "when must be a non-empty dict"),
])
def test_bad_conditions(raw, message):
    with pytest.raises(SearchSpaceError, match=message):
        Space(raw)
