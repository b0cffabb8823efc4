"""Hyperband as a stopping rule: brackets, proportions, and each bracket behaving as ASHA."""

from __future__ import annotations

import collections

import pytest

from sparkexp.errors import ConfigError
from sparkexp.search.stopping import ASHA, Hyperband, make_stopper


def test_brackets_start_one_rung_later_each_and_the_last_never_stops():
    hb = Hyperband(max_steps=81, min_steps=1)
    assert [b.rungs if b else [] for b in hb.brackets] == [[1, 3, 9, 27], [3, 9, 27], [9, 27], [27], []]
    last = len(hb.brackets) - 1
    key = next(k for k in range(100) if hb.bracket(k) == last)
    assert not any(hb.report(key, s, 1e9) for s in range(1, 82))  # however bad


def test_trials_spread_over_brackets_in_hyperbands_proportions():
    hb = Hyperband(max_steps=27, min_steps=1)  # R = 3, eta = 3: n_i = 27, 12, 6, 4
    assert hb.counts == [27, 12, 6, 4]
    per_round = collections.Counter(hb.bracket(k) for k in range(sum(hb.counts)))
    assert [per_round[b] for b in range(4)] == hb.counts
    # early keys already visit every bracket (a short experiment is not all-aggressive)
    assert set(hb.bracket(k) for k in range(12)) == {0, 1, 2, 3}


def test_a_bracket_decides_exactly_as_asha_with_its_rungs():
    hb = Hyperband(max_steps=27, min_steps=3, brackets=2)
    asha = ASHA(max_steps=27, min_steps=9)
    keys = [k for k in range(60) if hb.bracket(k) == 1][:8]
    losses = [0.5, 0.4, 0.9, 0.3, 0.8, 0.2, 0.7, 0.1]
    assert [hb.report(k, 9, x) for k, x in zip(keys, losses)] == \
        [asha.report(k, 9, x) for k, x in zip(keys, losses)]


def test_bad_brackets_and_the_registry():
    with pytest.raises(ConfigError, match="brackets must be at most 3"):
        Hyperband(max_steps=27, min_steps=3, brackets=4)
    hb = make_stopper({"name": "hyperband", "max_steps": 27, "min_steps": 3, "brackets": 2})
    assert isinstance(hb, Hyperband) and hb.settings()["brackets"] == 2
    with pytest.raises(ConfigError, match="needs max_steps"):
        make_stopper("hyperband")
