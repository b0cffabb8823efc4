"""BOHB: the model proposes from the largest budget with enough observations, and it helps."""

from __future__ import annotations

import math
import statistics
from collections import Counter

import numpy as np
import pytest

from sparkexp.errors import ConfigError
from sparkexp.search import BOHBSearch, from_settings
from sparkexp.search.bohb import kde_log_density, normal_reference_bandwidth
from sparkexp.search.stopping import Hyperband


def curve(params, step):
    """A learning curve whose final loss is best at x=0.7, y=0.2 (as a trial would report)."""
    final = (params["x"] - 0.7) ** 2 + (params["y"] - 0.2) ** 2
    return final + 0.5 * math.exp(-step / 3)


def drive(search, max_steps, rounds):
    """Run a search (and, if it stops trials, its stopping) sequentially; steps spent."""
    stopper = search if hasattr(search, "report") else None
    spent = 0
    while not search.is_finished():
        for c in search.ask(rounds):
            status, step = "complete", max_steps
            for step in range(1, max_steps + 1):
                spent += 1
                if stopper is not None and stopper.report(c.key, step, curve(c.params, step)):
                    status = "stopped"
                    break
            search.tell(c.key, curve(c.params, step), status)
    return spent


def test_the_kde_prefers_points_near_its_data():
    pts = np.array([[0.2, 0.2], [0.25, 0.2]])
    bw = normal_reference_bandwidth(pts, 1e-3)
    near, far = kde_log_density(np.array([[0.22, 0.2], [0.9, 0.9]]), pts, bw)
    assert near > far


def test_proposals_start_random_then_model_the_largest_budget_with_enough_points():
    s = BOHBSearch({"x": [0.0, 1.0], "y": [0.0, 1.0]}, trials=60, max_steps=9, min_steps=1, seed=1)
    drive(s, 9, 1)
    kinds = list(s.proposed_by.values())
    assert kinds[:6] == ["random"] * 6  # min_points = 3 good and 3 other bad: 6 observations
    modelled = [k for k in kinds if k != "random"]
    assert modelled and set(modelled) <= set(s.budgets)
    assert 0.15 < kinds.count("random") / len(kinds) < 0.6  # a third random, plus the start


def test_the_model_beats_random_proposals_in_the_same_brackets():
    def median_best(**kwargs):
        bests = []
        for seed in range(10):
            s = BOHBSearch({"x": [0.0, 1.0], "y": [0.0, 1.0]}, trials=40, max_steps=9, seed=seed, **kwargs)
            drive(s, 9, 1)
            bests.append(s.best_loss)
        return statistics.median(bests)

    # random_fraction=1: Hyperband with random draws, the same brackets and seeds
    assert median_best() < median_best(random_fraction=1.0)


def test_resume_rebuilds_the_same_proposals_from_settings():
    a = BOHBSearch({"x": [0.0, 1.0], "y": [0.0, 1.0]}, trials=20, max_steps=9, seed=4)
    b = from_settings("bohb", a.settings())
    assert isinstance(b, BOHBSearch) and isinstance(b.hyperband, Hyperband)
    drive(a, 9, 1)
    drive(b, 9, 1)
    assert a.proposed_by == b.proposed_by and a.best_params == b.best_params


@pytest.mark.parametrize("kwargs, match", [
    ({"random_fraction": 1.5}, "random_fraction must be a number in"),
    ({"top_fraction": -0.1}, "top_fraction must be a number in"),
    ({"min_steps": 9}, "min_steps .9. must be below max_steps"),
])
def test_bad_options_are_clear_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        BOHBSearch({"x": [0.0, 1.0]}, trials=5, max_steps=9, **kwargs)


def test_good_and_bad_sets_never_share_a_point():
    s = BOHBSearch({"x": [0.0, 1.0], "y": [0.0, 1.0]}, trials=20, max_steps=9, min_steps=1, seed=2,
                   random_fraction=0.0)
    assert [s.split(n) for n in (5, 6, 40)] == [None, (3, 3), (6, 34)]
    drive(s, 9, 1)
    kinds = list(s.proposed_by.values())
    # every trial reports at step 1 (the first budget): the sixth observation starts the model
    assert kinds[:6] == ["random"] * 6 and kinds[6] != "random"
    budget = s._model_budget()
    good, bad, _, _ = s.densities(budget)
    assert len(good) + len(bad) == len(s._observed[budget])
    assert not {tuple(p) for p in good} & {tuple(p) for p in bad}


def test_the_bandwidth_floor_shrinks_with_observations_but_never_collapses():
    """The floor is 1/(n+1), not the paper's 1e-3 (with which good points sharing one value of
    a choice made the model propose nothing but that value), and on a choice of k options never
    below one option's interval 1/k (with 1/(n+1) alone the model still settled on the first
    good width it saw: benchmarks/early_stopping.py --offline, docs/performance.md)."""
    space = {"x": [0.0, 1.0], "width": [32, 64, 128, 256, 512, 1024]}
    s = BOHBSearch(space, trials=12, max_steps=9, seed=3, random_fraction=1.0)
    asked = s.ask(12)
    common = Counter(c.params["width"] for c in asked).most_common(1)[0]
    assert common[1] >= 3  # this seed draws one width at least three times
    for c in asked:  # best: that width, then small x
        s.tell(c.key, (c.params["width"] != common[0]) + c.params["x"], "complete")
    good, bad, bw_good, bw_bad = s.densities(9)
    assert len(good) == 3 and len(set(good[:, 1])) == 1  # the good points share one width
    assert bw_good[1] == pytest.approx(1 / 6) and bw_bad[1] >= 1 / 6  # width: one option's interval
    assert bw_good[0] >= 1 / 13 and bw_bad[0] >= 1 / 13  # x: 1/(n+1), n = 12 observations
    assert s.choice_floor.tolist() == [0.0, pytest.approx(1 / 6)]
