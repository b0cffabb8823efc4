"""The helpers every strategy shares (no Spark): seeds, per-trial generators, spaces a search
accepts, warm-start points, counts and losses.

The strategies using them: the other modules of tests/search/.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sparkexp.errors import ConfigError, SearchSpaceError
from sparkexp.search._util import (
    TELL_STATUSES,
    as_any_space,
    as_loss,
    as_space,
    positive_int,
    resolve_seed,
    rng_for,
    warm_points,
)
from sparkexp.space import HyperoptSpace, Space, choice, uniform

pytestmark = pytest.mark.timeout(60)

SPACE = Space({"lr": [0.001, 0.1], "opt": ["adam", "sgd"], "epochs": 5})


# -- seeds -----------------------------------------------------------------------------------


def test_a_missing_seed_becomes_a_fresh_one_to_record():
    seeds = {resolve_seed(None) for _ in range(20)}
    assert len(seeds) == 20 and all(isinstance(s, int) and s >= 0 for s in seeds)


def test_a_given_seed_is_kept_as_a_plain_int():
    assert resolve_seed(0) == 0
    assert resolve_seed(np.int64(7)) == 7 and type(resolve_seed(np.int64(7))) is int


@pytest.mark.parametrize("seed", [-1, True, 1.5, "3", [1]])
def test_a_seed_that_is_not_a_non_negative_int_is_refused(seed):
    with pytest.raises(ConfigError, match=rf"seed must be a non-negative int or None, got {seed!r}"[:40]):
        resolve_seed(seed)


def test_each_trial_key_has_its_own_stream_whatever_else_was_drawn():
    first = rng_for(42, 3).random(5)
    other = rng_for(42, 4)
    other.random(1000)  # draws for another trial change nothing for trial 3
    assert np.array_equal(rng_for(42, 3).random(5), first)
    assert not np.array_equal(rng_for(42, 4).random(5), first)
    assert not np.array_equal(rng_for(43, 3).random(5), first)
    assert not np.array_equal(rng_for(42, 3, 1).random(5), first)  # a sub-key is another stream
    # numpy's SeedSequence ignores trailing zeros: a sub-key 0 is the key's own stream, so
    # callers use sub-keys >= 1 (PBT's exploit step is >= its interval >= 1)
    assert np.array_equal(rng_for(42, 3, 0).random(5), first)


# -- spaces ----------------------------------------------------------------------------------


def test_as_space_takes_dicts_and_spaces():
    assert as_space(SPACE) is SPACE
    built = as_space({"lr": uniform(0.001, 0.1), "opt": choice(["adam", "sgd"]), "epochs": 5})
    assert isinstance(built, Space) and built.names == SPACE.names


def test_as_space_refuses_a_hyperopt_space_naming_the_search_and_where_it_works():
    from hyperopt import hp

    with pytest.raises(SearchSpaceError, match="grid_search takes a sparkexp space .* hyperopt spaces "
                                               r"\(hp\.\*\) work with random_search"):
        as_space({"lr": hp.loguniform("lr", -5, 0)}, owner="grid_search")


def test_as_any_space_also_takes_hyperopt_spaces_and_their_records():
    from hyperopt import hp

    hyperopt_space = as_any_space({"lr": hp.loguniform("lr", -5, 0)})
    assert isinstance(hyperopt_space, HyperoptSpace)
    assert as_any_space(hyperopt_space) is hyperopt_space
    again = as_any_space(hyperopt_space.to_dict())  # as a manifest records it
    assert isinstance(again, HyperoptSpace) and again.to_dict() == hyperopt_space.to_dict()
    assert isinstance(as_any_space({"x": [1, 2]}), Space)


# -- warm starts -----------------------------------------------------------------------------


def test_warm_points_are_checked_and_fixed_values_may_be_left_out():
    points = warm_points(SPACE, [{"lr": 0.01, "opt": "sgd"}, {"lr": 0.1, "opt": "adam", "epochs": 5}])
    assert points == [{"lr": 0.01, "opt": "sgd", "epochs": 5}, {"lr": 0.1, "opt": "adam", "epochs": 5}]
    assert warm_points(SPACE, None) == [] and warm_points(SPACE, []) == []


@pytest.mark.parametrize("warm_start, words", [
    ({"lr": 0.01, "opt": "sgd"}, "warm_start must be a list of points .dicts of hyperparameters., got {"),
    ("points.json", "warm_start must be a list of points .dicts of hyperparameters., got 'points.json'"),
    (b"xy", "warm_start must be a list of points"),
    (42, "warm_start must be a list of points"),
    ([{"lr": 0.01, "opt": "sgd"}, {"lr": 5.0, "opt": "sgd"}], r"warm_start\[1\]: 'lr' = 5.0 is outside"),
    ([{"lr": 0.01, "opt": "sgd", "epochs": 6}], r"warm_start\[0\]: 'epochs' = 6 differs from its fixed"),
    ([{"lr": 0.01}], r"warm_start\[0\]: .*lacks hyperparameter 'opt'"),
    ([{"lr": 0.01, "opt": "sgd", "batch": 32}], r"warm_start\[0\]: .*unknown hyperparameter"),
    ([["lr", 0.01]], r"warm_start\[0\]: a point must be a dict of hyperparameters"),
])
def test_bad_warm_starts_name_the_point_and_what_is_wrong(warm_start, words):
    with pytest.raises(SearchSpaceError, match=words):
        warm_points(SPACE, warm_start)


# -- counts and losses -----------------------------------------------------------------------


def test_positive_int_names_the_search_and_the_option():
    assert positive_int("random_search", "samples", 3) == 3
    assert positive_int("bohb", "min_points", 0, minimum=0) == 0
    for bad in (0, -2, 2.5, True, "3"):
        with pytest.raises(ConfigError, match="random_search: samples must be"):
            positive_int("random_search", "samples", bad)


def test_no_metric_and_nan_rank_after_every_number():
    losses = [0.5, None, -math.inf, math.nan, 3, -1.0]
    ranked = sorted(losses, key=as_loss)
    assert ranked[:4] == [-math.inf, -1.0, 0.5, 3]
    assert {as_loss(x) for x in ranked[4:]} == {math.inf}
    assert type(as_loss(3)) is float


def test_a_search_is_told_only_final_statuses():
    assert sorted(TELL_STATUSES) == ["complete", "error", "stopped", "timeout"]
