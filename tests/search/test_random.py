"""RandomSearch: budget, per-key determinism, warm start, the ask/tell contract."""

from __future__ import annotations

import numpy as np
import pytest

from sparkexp.errors import ConfigError, SearchSpaceError
from sparkexp.search import RandomSearch
from sparkexp.space import choice, loguniform, uniformint

SPACE = {
    "lr": loguniform(1e-5, 1e-1),
    "units": uniformint(8, 64),
    "opt": choice(["adam", "sgd", "rmsprop"]),
    "dropout": [0.1, 0.6],
    "epochs": 3,
}


def params(cands):
    return [(c.key, c.params) for c in cands]


def test_draws_count_keys_and_values():
    s = RandomSearch(SPACE, samples=50, seed=1)
    cands = s.ask(100)
    assert [c.key for c in cands] == list(range(50))
    assert s.is_finished() and s.ask(3) == [] and s.total == 50
    for c in cands:
        p = c.params
        assert 1e-5 <= p["lr"] <= 1e-1 and 8 <= p["units"] <= 64 and isinstance(p["units"], int)
        assert p["opt"] in ("adam", "sgd", "rmsprop") and 0.1 <= p["dropout"] <= 0.6
        assert p["epochs"] == 3
    assert len({c.params["lr"] for c in cands}) == 50
    assert {c.params["opt"] for c in cands} == {"adam", "sgd", "rmsprop"}


def test_ask_n_equals_n_single_asks():
    a = RandomSearch(SPACE, samples=20, seed=7)
    b = RandomSearch(SPACE, samples=20, seed=7)
    batched = a.ask(5) + a.ask(15)
    single = [c for _ in range(20) for c in b.ask(1)]
    assert params(batched) == params(single)


def test_trial_k_depends_only_on_seed_and_k():
    a = RandomSearch(SPACE, samples=10, seed=3)
    first = a.ask(10)
    b = RandomSearch(SPACE, samples=10, seed=3)
    for c in b.ask(4):
        b.tell(c.key, 1.0)  # results change nothing
    assert params(b.ask(6)) == params(first[4:])
    assert a.point(7) == first[7].params
    other = RandomSearch(SPACE, samples=10, seed=4).ask(10)
    assert params(other) != params(first)


def test_seed_none_is_recorded_and_replayable():
    s = RandomSearch(SPACE, samples=5)
    again = RandomSearch(SPACE, samples=5, seed=s.settings()["seed"])
    assert params(s.ask(5)) == params(again.ask(5))


def test_warm_start_goes_first_and_counts_in_samples():
    warm = [{"lr": 1e-3, "units": 32, "opt": "sgd", "dropout": 0.5}]
    s = RandomSearch(SPACE, samples=4, seed=0, warm_start=warm)
    cands = s.ask(10)
    assert len(cands) == 4
    assert cands[0].params == {**warm[0], "epochs": 3}


def test_warm_start_and_options_are_validated():
    with pytest.raises(SearchSpaceError, match=r"warm_start\[0\].*'opt' = 'nadam'"):
        RandomSearch(SPACE, samples=4, warm_start=[{"lr": 1e-3, "units": 8, "opt": "nadam",
                                                     "dropout": 0.2}])
    with pytest.raises(ConfigError, match="RandomSearch: samples must be a positive whole number, got 0"):
        RandomSearch(SPACE, samples=0)
    with pytest.raises(ConfigError, match="seed"):
        RandomSearch(SPACE, samples=3, seed=-1)
    with pytest.raises(ConfigError, match="2 warm_start points exceed samples=1"):
        RandomSearch({"x": [0.0, 1.0]}, samples=1, warm_start=[{"x": 0.1}, {"x": 0.2}])


def test_marginals_are_statistically_sane():
    s = RandomSearch({"x": [0.0, 1.0], "c": ["a", "b"]}, samples=2000, seed=11)
    ps = [c.params for c in s.ask(2000)]
    xs = np.array([p["x"] for p in ps])
    assert abs(xs.mean() - 0.5) < 0.03 and abs(np.mean(xs < 0.1) - 0.1) < 0.02
    assert abs(sum(p["c"] == "a" for p in ps) / 2000 - 0.5) < 0.04


def test_settings_are_json_ready():
    import json

    s = RandomSearch(SPACE, samples=3, seed=2)
    back = json.loads(json.dumps(s.settings()))
    assert back["samples"] == 3 and back["seed"] == 2 and back["space"]["epochs"]["method"] == "fixed"
