"""The in-trial reporter as a training function meets it (no Spark): steps, what reaches the
driver and TensorBoard, and stopping. Reports through a real trial: tests/runner/test_live.py;
checkpoints: tests/test_checkpoint.py."""

from __future__ import annotations

import numpy as np
import pytest

from sparkexp import reporter
from sparkexp.errors import ConfigError, NotInTrialError
from sparkexp.reporter import Reporter, TrialStopped
from sparkexp.search.stopping import ASHA


class Driver:
    """The driver's side of the reports: keeps them and asks a stopping rule about each."""

    def __init__(self, rule: ASHA | None = None, key: int = 0) -> None:
        self.reports: list[dict] = []
        self.scalars: list[tuple[str, float, int]] = []
        self.rule, self.key = rule, key

    def send(self, report: dict) -> str | None:
        self.reports.append(report)
        if self.rule is not None and self.rule.report(self.key, report["step"], report["loss"]):
            return "early stopping (asha)"
        return None

    def scalar(self, name: str, value: float, step: int) -> None:
        self.scalars.append((name, value, step))


def test_steps_count_on_from_the_last_one_reported():
    driver = Driver()
    rep = Reporter(driver.send)
    rep.log(loss=0.9)
    rep.log(loss=0.8)
    rep.log(step=np.int64(10), loss=0.5)  # a numpy step, e.g. from a loop over np.arange
    rep.log(loss=0.4)
    rep.log(step="12", loss=0.3)
    rep.log(step=np.float64(20.0), loss=0.2)  # a whole value computed as a float
    assert [r["step"] for r in driver.reports] == [0, 1, 10, 11, 12, 20]
    assert all(type(r["step"]) is int for r in driver.reports)
    assert rep.last == driver.reports[-1] and rep.last["loss"] == 0.2
    assert driver.reports[0]["_time"] <= driver.reports[-1]["_time"]


def test_only_finite_numbers_reach_tensorboard_but_every_metric_reaches_the_driver():
    driver = Driver()
    rep = Reporter(driver.send, driver.scalar)
    rep.log(step=3, loss=0.25, epochs=2, converged=True, phase="warmup", grad=float("nan"),
            lr=float("inf"))
    assert driver.scalars == [("loss", 0.25, 3), ("epochs", 2.0, 3)]
    assert {k: v for k, v in driver.reports[0].items() if k not in ("_time", "grad")} == {
        "step": 3, "loss": 0.25, "epochs": 2, "converged": True, "phase": "warmup", "lr": float("inf")}


def test_the_driver_stops_a_trial_at_its_report_and_broad_excepts_do_not_swallow_it():
    asha = ASHA(max_steps=9, min_steps=1, reduction_factor=3)
    good = Driver(asha, key=0)
    bad = Driver(asha, key=1)

    def train(rep: Reporter, quality: float) -> int:
        for epoch in range(9):
            try:  # training code that guards its steps with a broad except
                rep.log(step=epoch + 1, loss=quality / (epoch + 1))
            except Exception:  # noqa: BLE001 - what users write
                pass
        return 9

    assert train(Reporter(good.send), 0.5) == 9
    with pytest.raises(TrialStopped) as info:
        train(Reporter(bad.send), 0.9)  # worse than trial 0 at the first rung
    assert info.value.reason == "early stopping (asha)" and str(info.value) == info.value.reason
    assert [r["step"] for r in bad.reports] == [1]  # it stopped at that report


@pytest.mark.parametrize("call, message", [
    (lambda r: r.log(), "reporter.log() needs at least one metric, e.g. reporter.log(step=1, loss=0.3)"),
    (lambda r: r.log(step="one", loss=1.0), "reporter.log(step=...) must be a whole number, got 'one'"),
    (lambda r: r.log(step=[1], loss=1.0), "reporter.log(step=...) must be a whole number, got [1]"),
    # never rounded: two reports at step 2 would hide one from early stopping
    (lambda r: r.log(step=2.7, loss=1.0), "reporter.log(step=...) must be a whole number, got 2.7"),
    (lambda r: r.log(step=True, loss=1.0), "reporter.log(step=...) must be a whole number, got True"),
    (lambda r: r.log(step=np.float32("nan"), loss=1.0),
     "reporter.log(step=...) must be a whole number, got np.float32(nan)"),
    (lambda r: r.checkpoint({"w": 1}),
     "reporter.checkpoint(): this trial has no checkpoint folder (not run by sparkexp)"),
    (lambda r: r.restore(), "reporter.restore(): this trial has no checkpoint folder (not run by sparkexp)"),
])
def test_bad_calls_are_refused_in_one_line(call, message):
    with pytest.raises(ConfigError) as info:
        call(Reporter(Driver().send))
    assert str(info.value) == message


@pytest.mark.parametrize("name, call", [
    ("reporter.log()", lambda: reporter.log(loss=0.1)),
    ("reporter.checkpoint()", lambda: reporter.checkpoint({"w": 1})),
    ("reporter.restore()", lambda: reporter.restore()),
    ("reporter.run()", lambda: reporter.run(["true"])),
])
def test_the_module_functions_outside_a_trial_say_where_they_work(name, call):
    with pytest.raises(NotInTrialError) as info:
        call()
    assert str(info.value) == (f"{name} can only be called inside a trial, i.e. from the function "
                               "passed to experiment.grid_search/launch/... while it runs on an executor")
