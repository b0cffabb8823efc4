"""Progress views without Spark: the terminal line (in place on a terminal, appended in logs),
how often it draws, the notebook table (escaped, limited, with the best trial) and the choice
of view.

The views during real experiments: tests/runner/test_live.py.
"""

from __future__ import annotations

import io

import pytest

from sparkexp.errors import ConfigError
from sparkexp.progress import NotebookProgress, Progress, TerminalProgress, make_progress, snapshot
from sparkexp.trial import Trial

pytestmark = pytest.mark.timeout(60)


class Runner:
    """What the driver's ExperimentRunner offers a progress view: ``progress_view()``."""

    def __init__(self, trials: list[Trial], *, total: int | None = 6, elapsed: float = 75.4,
                 direction: str = "max", metric: str = "accuracy") -> None:
        self.trials = trials
        self.view = {"name": "sweep_2", "total": total, "trials": trials,
                     "running": [t for t in trials if t.status == "running"], "metric": metric,
                     "direction": direction, "elapsed": elapsed}

    def progress_view(self) -> dict:
        return dict(self.view)


def trials() -> list[Trial]:
    return [
        Trial("trial_00000", 0, {"lr": 0.1}, status="complete", metric=0.81234),
        Trial("trial_00001", 1, {"lr": 0.2}, status="complete", metric=0.9, slot=1, spark_task=17),
        Trial("trial_00002", 2, {"lr": 0.3}, status="error", error="boom"),
        Trial("trial_00003", 3, {"lr": 0.4}, status="timeout"),
        Trial("trial_00004", 4, {"lr": 0.5, "act": "<script>alert(1)</script>"}, status="running",
              slot=0, spark_task=23, history=[{"step": 1, "accuracy": 0.5}, {"step": 2, "accuracy": 0.61,
                                                                            "_time": 5.0}]),
        Trial("trial_00005", 5, {"lr": 0.6}, status="queued"),
    ]


def test_snapshot_counts_and_finds_the_best_in_the_users_direction():
    snap = snapshot(Runner(trials()))
    assert snap["counts"] == {"complete": 2, "error": 1, "timeout": 1, "running": 1, "queued": 1}
    assert snap["best"].id == "trial_00001"
    assert snapshot(Runner(trials(), direction="min"))["best"].id == "trial_00000"
    assert [t.id for t in snap["running"]] == ["trial_00004"]


def test_the_terminal_line_in_a_log_is_one_appended_line_per_draw():
    out = io.StringIO()
    progress = TerminalProgress(out, interval=0)
    assert not progress.tty
    runner = Runner(trials())
    progress.update(runner)
    progress.close(runner)
    line = "sparkexp sweep_2: 4/6 done (1 error, 1 timeout), 1 running, best accuracy=0.9 (trial_00001) [01:15]"
    assert out.getvalue() == line + "\n" + line + "\n"


def test_the_line_without_a_known_total_or_a_best():
    out = io.StringIO()
    TerminalProgress(out, interval=0).close(Runner([Trial("trial_00000", 0, {}, status="error")],
                                                   total=None, elapsed=3725))
    assert out.getvalue() == "sparkexp sweep_2: 1 done (1 error), 0 running [62:05]\n"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_line_is_rewritten_in_place_and_ended_once():
    out = Tty()
    progress = TerminalProgress(out)
    assert progress.tty and progress.interval == 0.5  # a terminal redraws often, a log rarely
    assert TerminalProgress(io.StringIO()).interval == 30.0
    progress.interval = 0
    runner = Runner(trials())
    progress.update(runner)
    progress.update(runner)
    progress.close(runner)
    drawn = out.getvalue()
    assert drawn.count("\r\x1b[K") == 3 and drawn.count("\n") == 1 and drawn.endswith("]\n")


def test_updates_are_rate_limited_but_the_end_is_always_drawn():
    out = io.StringIO()
    progress = TerminalProgress(out, interval=3600)
    runner = Runner(trials())
    for _ in range(50):
        progress.update(runner)
    assert len(out.getvalue().splitlines()) <= 1  # at most the first
    progress.close(runner)
    assert out.getvalue().splitlines()[-1].startswith("sparkexp sweep_2: 4/6 done")


def test_the_notebook_table_shows_running_trials_their_last_report_and_the_best_escaped():
    page = NotebookProgress().render(snapshot(Runner(trials())))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "<td>trial_00004</td><td>running</td><td>slot 0 / task 23</td>" in page
    assert "<td>step=2, accuracy=0.61</td>" in page  # the last report, without its time
    assert "<td>trial_00001</td><td>best</td><td>slot 1 / task 17</td><td>lr=0.2</td><td>accuracy=0.9</td>" in page
    assert page.count("<tr><td>") == 2


def test_the_notebook_table_is_limited_to_its_rows():
    many = [Trial(f"trial_{i:05d}", i, {"i": i}, status="running", slot=i) for i in range(30)]
    page = NotebookProgress(rows=5).render(snapshot(Runner(many, total=30)))
    assert page.count("<td>running</td>") == 5
    assert "30 running" in page  # the headline still counts them all


def test_the_view_is_chosen_from_what_the_user_passed():
    assert make_progress(None) is None and make_progress(False) is None
    mine = TerminalProgress(io.StringIO())
    assert make_progress(mine) is mine
    assert isinstance(make_progress(True), TerminalProgress)  # not in a notebook here
    assert isinstance(make_progress("auto"), TerminalProgress)
    assert isinstance(NotebookProgress(), Progress)
    for bad in ("yes", 1, "notebook"):
        with pytest.raises(ConfigError, match="progress must be 'auto', True, False or a Progress object"):
            make_progress(bad)
