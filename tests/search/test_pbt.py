"""Population based training as a search: exploit, explore, lineage keys, the end."""

from __future__ import annotations

import pytest

from sparkexp.errors import ConfigError
from sparkexp.search import PopulationBasedTraining, from_settings
from sparkexp.space import loguniform


def test_the_worst_member_is_replaced_by_a_perturbed_copy_of_the_best():
    pbt = PopulationBasedTraining({"lr": loguniform(1e-4, 1e-1), "opt": ["sgd", "adam", "rms"]},
                                  population=4, max_steps=20, interval=5, seed=2,
                                  resample_probability=0.0)
    members = pbt.ask(10)
    assert [c.key for c in members] == [0, 1, 2, 3] and all(c.parent is None for c in members)
    # asynchronous: each decision ranks the members that reported so far (1 alone: none)
    losses = {1: 0.5, 0: 0.1, 2: 0.3, 3: 0.9}
    decisions = {k: pbt.report(k, 5, loss) for k, loss in losses.items()}
    assert decisions == {1: False, 0: False, 2: False, 3: True}
    assert pbt.ask(1) == []  # nothing to propose until the stopped member is told
    pbt.tell(3, 0.9, "stopped")
    (child,) = pbt.ask(1)
    assert child.key == 4 and child.parent == 0
    parent = members[0].params
    ratio = child.params["lr"] / parent["lr"]
    assert ratio == pytest.approx(0.8) or ratio == pytest.approx(1.2)
    order = ["sgd", "adam", "rms"]
    assert abs(order.index(child.params["opt"]) - order.index(parent["opt"])) == 1  # always moves


def test_members_are_compared_at_equal_steps():
    pbt = PopulationBasedTraining({"x": [0.0, 1.0]}, population=2, max_steps=20, interval=4, seed=0)
    a, b = pbt.ask(2)
    for step in range(1, 13):  # a runs ahead; its loss falls as it trains
        pbt.report(a.key, step, 1.0 / step)
    # b at step 4 is better than a was at step 4 (0.25), though worse than a is now (1/12)
    assert pbt.report(b.key, 4, 0.2) is False
    assert pbt.report(b.key, 8, 0.5) is True  # a at step 8: 0.125


def test_the_search_ends_when_every_line_reached_the_end():
    pbt = PopulationBasedTraining({"x": [0.0, 1.0]}, population=2, max_steps=10, interval=3, seed=0)
    a, b = pbt.ask(2)
    pbt.report(a.key, 3, 0.1)
    assert pbt.report(b.key, 3, 0.9)
    pbt.tell(b.key, 0.9, "stopped")
    (c,) = pbt.ask(1)
    assert not pbt.is_finished()
    pbt.tell(a.key, 0.05, "complete")
    pbt.tell(c.key, 0.04, "complete")
    assert pbt.is_finished() and pbt.best_loss == 0.04 and pbt.exploits == [(3, b.key, a.key)]


def test_settings_rebuild_the_search_and_bad_options_are_clear_errors():
    pbt = PopulationBasedTraining({"x": [0.0, 1.0]}, population=3, max_steps=10, interval=2, seed=5)
    again = from_settings("pbt", pbt.settings())
    assert [c.params for c in again.ask(3)] == [c.params for c in pbt.ask(3)]
    with pytest.raises(ConfigError, match="interval .10. must be below max_steps"):
        PopulationBasedTraining({"x": [0.0, 1.0]}, max_steps=10, interval=10)
    with pytest.raises(ConfigError, match="quantile must be in"):
        PopulationBasedTraining({"x": [0.0, 1.0]}, max_steps=10, interval=2, quantile=0.9)
    with pytest.raises(ConfigError, match="population must be"):
        PopulationBasedTraining({"x": [0.0, 1.0]}, population=1, max_steps=10, interval=2)
