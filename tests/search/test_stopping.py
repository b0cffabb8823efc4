"""Early-stopping rules as the runner meets them: ASHA and the median rule, their options and
the registry (pure Python, no Spark). Hyperband's brackets: tests/search/test_hyperband.py."""

from __future__ import annotations

import random

import pytest

from sparkexp.errors import ConfigError
from sparkexp.search.stopping import (
    ASHA,
    Hyperband,
    MedianStopping,
    Stopper,
    make_stopper,
    names_search_pruner,
)

# -- ASHA ------------------------------------------------------------------------------------


def test_asha_keeps_the_best_third_of_each_rung_by_quantile():
    asha = ASHA(max_steps=27, min_steps=3, reduction_factor=3)
    # losses arrive at rung 3 in this order; the cut is the 1/3 quantile of those so far
    decisions = [asha.report(k, 3, loss) for k, loss in enumerate([0.50, 0.40, 0.60, 0.30, 0.45,
                                                                    0.35, 0.70, 0.38])]
    # 1st: alone; 0.40 beats 0.50; 0.60 worst of 3; 0.30 best; 0.45: cut of 5 (pos 1.33) is
    # 0.40+0.33*0.05; 0.35 below the cut of 6; 0.70 worst; 0.38: third best of 8 (pos 2.33 ->
    # cut 0.38+0.33*0.02) continues, where "the best 8 // 3 = 2" would have stopped it
    assert decisions == [False, False, True, False, True, False, True, False]
    assert not asha.report(1, 9, 0.2)  # first at rung 9 goes on
    assert asha.report(3, 9, 0.25)  # second, worse: stops
    assert not asha.report(3, 27, 0.1)  # max_steps is not a rung: nothing decided there


@pytest.mark.parametrize("eta", [2, 3, 4])
def test_asha_promotes_about_one_in_eta_of_a_rung(eta):
    """240 trials of random quality report at each rung in a random order (trials running
    side by side): about 1/eta of them go on from the first rung, and the best goes all the way."""
    asha = ASHA(max_steps=eta ** 4, min_steps=1, reduction_factor=eta)
    assert asha.rungs == [1, eta, eta ** 2, eta ** 3]
    rng = random.Random(0)
    quality = [rng.random() for _ in range(240)]
    alive = list(range(240))
    counts = []
    for rung in asha.rungs:
        rng.shuffle(alive)
        counts.append(len(alive))
        alive = [k for k in alive if not asha.report(k, rung, quality[k] + 1.0 / rung)]
    # a rung still filling is lenient with its first trials: a little more than 1/eta goes on
    assert 240 / eta * 0.8 <= counts[1] <= 240 / eta * 1.3, counts
    assert counts == sorted(counts, reverse=True) and len(alive) < counts[-1]
    assert min(range(240), key=quality.__getitem__) in alive


def test_asha_decides_at_once_and_never_revisits_a_promotion():
    asha = ASHA(max_steps=27, min_steps=1, reduction_factor=3)
    assert not asha.report(0, 1, 0.9)  # the first trial at a rung always goes on: no waiting
    for key in range(1, 20):  # better trials arrive at rung 1 afterwards
        asha.report(key, 1, 0.1 + key / 100)
    # trial 0 is not called back; between rungs nothing is decided
    assert not asha.report(0, 2, 0.9)
    assert not asha.report(0, 3, 0.9)  # the first at rung 3 goes on as well
    assert asha.report(1, 3, 0.95)  # rung 3 judges trial 1 against trial 0's 0.9 only


def test_asha_never_stops_a_trial_past_the_last_rung():
    asha = ASHA(max_steps=9, min_steps=1, reduction_factor=3)
    assert asha.rungs == [1, 3]
    assert not asha.report(0, 1, 0.1)
    assert not asha.report(0, 3, 0.1)
    # trial 0 passed the last rung; however bad it gets afterwards, nothing stops it
    assert not any(asha.report(0, step, 1e9) for step in range(4, 200))
    # a newcomer worse than every record is stopped at the first rung it reaches ...
    assert asha.report(9, 1, 5.0)
    # ... one that first reports past the last rung is judged at every rung it skipped
    assert asha.report(10, 50, 5.0)
    assert not asha.report(11, 50, 0.01)


def test_a_trial_is_recorded_at_every_rung_it_skipped_and_none_past_its_stop():
    asha = ASHA()  # no max_steps: ``rungs`` lists the rungs that hold records
    assert not asha.report(0, 1, 0.5)
    assert asha.report(1, 5, 0.9)  # first report past rung 3, stopped at rung 1 ...
    assert asha.rungs == [1]  # ... so not recorded at rung 3
    assert not asha.report(2, 10, 0.4)  # judged and recorded at rungs 1, 3 and 9 at once
    assert asha.rungs == [1, 3, 9]
    assert not asha.report(3, 1, 0.3)
    assert not asha.report(3, 3, 0.3)  # the better of two at rung 3
    assert asha.report(3, 9, 0.45)  # rung 9 holds trial 2's 0.4: 0.45 is the worse of two


def test_asha_decides_each_rung_once_per_trial():
    asha = ASHA(max_steps=27, min_steps=1, reduction_factor=3)
    assert not asha.report(0, 1, 0.2)
    assert not asha.report(1, 1, 0.1)
    # repeated and in-between steps of a trial that passed rung 1 decide nothing ...
    assert not asha.report(1, 1, 9.0)
    assert not asha.report(1, 2, 9.0)
    # ... and add nothing to rung 1: {0.1, 0.15, 0.2} cut at 0.133 stops 0.15 (with a 9.0
    # recorded as well the cut would be 0.15 and it would go on)
    assert asha.report(2, 1, 0.15)


def test_asha_without_max_steps_grows_its_rungs_as_trials_report():
    asha = ASHA()
    assert asha.rungs == [1]  # before any report: the first rung
    assert asha.settings() == {"name": "asha", "max_steps": None, "min_steps": 1,
                               "reduction_factor": 3, "rungs": [1]}
    asha.report(0, 30, 0.5)
    assert asha.rungs == [1, 3, 9, 27]
    assert asha.rung(3) == 27 and asha.rung(10) == 3 ** 10
    bounded = ASHA(max_steps=27)
    assert bounded.rungs == [1, 3, 9] and bounded.rung(3) is None


@pytest.mark.parametrize("options, message", [
    ({"reduction_factor": 1}, "reduction_factor must be a whole number >= 2, got 1"),
    ({"reduction_factor": 2.5}, "reduction_factor must be a whole number >= 2, got 2.5"),
    ({"min_steps": 0}, "min_steps must be a positive whole number, got 0"),
    ({"min_steps": True}, "min_steps must be a positive whole number, got True"),
    ({"max_steps": -3}, "max_steps must be a positive whole number, got -3"),
    ({"max_steps": "27"}, "max_steps must be a positive whole number, got '27'"),
    ({"max_steps": 9, "min_steps": 9}, "min_steps (9) must be below max_steps (9)"),
])
def test_asha_refuses_bad_options_in_one_line_naming_them(options, message):
    with pytest.raises(ConfigError) as info:
        ASHA(**options)
    assert str(info.value) == message
    with pytest.raises(ConfigError) as info:
        make_stopper({"name": "asha", **options})  # the same error through the registry
    assert str(info.value) == message


# -- the median rule -------------------------------------------------------------------------


def test_median_rule_compares_best_so_far_with_others_running_averages():
    rule = MedianStopping(grace_steps=1, min_trials=2)
    for key, loss in enumerate([0.1, 0.2]):
        assert not rule.report(key, 1, loss)  # too few others yet
    assert rule.report(2, 1, 0.9)  # worse than the median of the others
    assert not rule.report(3, 1, 0.05)
    # at step 2, trial 0 averages (0.1 + 0.5) / 2 = 0.3, trial 1 (0.2 + 0.2) / 2 = 0.2: median
    # 0.25. Trial 3's best so far (0.05) counts, not its last loss (0.8)
    rule.report(0, 2, 0.5)
    rule.report(1, 2, 0.2)
    assert not rule.report(3, 2, 0.8)
    # trials first reporting at step 2 meet the others' running averages (0.3, 0.2, 0.425):
    # median 0.3; then with trial 4's 0.32 as well: 0.31 (their best losses would give 0.15)
    assert rule.report(4, 2, 0.32)
    assert not rule.report(5, 2, 0.29)


def test_median_rule_grace_steps_and_min_trials():
    rule = MedianStopping(grace_steps=3, min_trials=3)
    for key in range(3):
        for step in range(1, 6):
            assert not rule.report(key, step, 0.1 * (key + 1))
    # a hopeless trial goes on through its grace steps and is stopped at the first after
    assert [rule.report(9, step, 5.0) for step in (1, 2, 3)] == [False, False, True]
    # only trials that reached the step count: at step 6 no other trial has, so no decision
    assert not rule.report(9, 6, 5.0)
    few = MedianStopping(grace_steps=0, min_trials=3)
    few.report(0, 0, 0.1)
    few.report(1, 0, 0.1)
    assert not few.report(2, 0, 5.0)  # two others are fewer than min_trials
    assert few.report(3, 0, 5.0)  # three others reached step 0 now


def test_median_rule_even_count_median_and_repeated_steps():
    def four():
        rule = MedianStopping(grace_steps=0, min_trials=4)
        for key, loss in enumerate([0.1, 0.2, 0.4, 0.8]):
            assert not rule.report(key, 0, loss)
        return rule

    # the median of four is (0.2 + 0.4) / 2 = 0.3, neither middle value alone
    assert not four().report(10, 0, 0.3)
    rule = four()
    assert rule.report(10, 0, 0.31)
    # a repeated or older step brings nothing new: no decision, nothing recorded
    assert not rule.report(10, 0, 0.31)
    assert not rule.report(0, 0, 99.0)
    # others 0.1, 0.2, 0.31, 0.4, 0.8: median 0.31 (0.4 had trial 0's 99 been averaged in)
    assert rule.report(12, 0, 0.35)


@pytest.mark.parametrize("options, message", [
    ({"grace_steps": -1}, "grace_steps must be a whole number >= 0, got -1"),
    ({"min_trials": 0}, "min_trials must be a positive whole number, got 0"),
    ({"min_trials": 2.0}, "min_trials must be a positive whole number, got 2.0"),
])
def test_median_rule_refuses_bad_options(options, message):
    with pytest.raises(ConfigError) as info:
        make_stopper({"name": "median", **options})
    assert str(info.value) == message


# -- the registry ----------------------------------------------------------------------------


@pytest.mark.parametrize("stopper", [
    MedianStopping(grace_steps=2, min_trials=5),
    ASHA(max_steps=81, min_steps=3, reduction_factor=2),
    ASHA(),
    Hyperband(max_steps=27, min_steps=1, brackets=2),
], ids=lambda s: s.name)
def test_settings_in_the_manifest_rebuild_the_same_rule(stopper):
    rebuilt = make_stopper(stopper.settings())
    assert type(rebuilt) is type(stopper) and rebuilt.settings() == stopper.settings()


def test_make_stopper_names_defaults_and_refusals():
    assert make_stopper(None) is None
    given = ASHA(max_steps=9)
    assert make_stopper(given) is given
    median = make_stopper("median")
    assert isinstance(median, MedianStopping) and (median.grace_steps, median.min_trials) == (1, 3)
    asha = make_stopper("asha")
    assert isinstance(asha, ASHA) and (asha.max_steps, asha.min_steps, asha.reduction_factor) == (None, 1, 3)
    with pytest.raises(ConfigError, match=r"early_stopping must be 'median', 'asha', 'hyperband', "
                                          r"a dict with 'name', or a Stopper; got 'ASHA'"):
        make_stopper("ASHA")
    with pytest.raises(ConfigError, match=r"got None"):
        make_stopper({"max_steps": 9})  # a dict without its name
    # an option the rule does not take: named, with those it takes (not a TypeError)
    with pytest.raises(ConfigError) as info:
        make_stopper({"name": "median", "patience": 3, "grace_steps": 2})
    assert str(info.value) == "early_stopping 'median' takes grace_steps, min_trials; got 'patience'"
    with pytest.raises(ConfigError, match="early_stopping 'hyperband' takes max_steps, min_steps, "
                                          "reduction_factor, brackets; got 'eta'"):
        make_stopper({"name": "hyperband", "max_steps": 27, "eta": 3})


def test_only_the_optuna_pruner_is_left_to_the_search():
    class OptunaPruner(Stopper):
        name = "optuna"

        def report(self, key: int, step: int, loss: float) -> bool:
            return False

    assert names_search_pruner("optuna") and names_search_pruner({"name": "optuna"})
    assert names_search_pruner(OptunaPruner())
    assert not any(names_search_pruner(s) for s in ("asha", {"name": "median"}, ASHA(), None))
