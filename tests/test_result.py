"""What an experiment gives back (no Spark): the best trial, hops' return tuple, the Pareto
front, the terminal summary, the tabular views, and ``load`` reading a run back from its records.

Results of real runs: tests/test_experiment.py, tests/test_hops.py; the HTML report over
them: tests/report/.
"""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from sparkexp.journal import TrialFinished, TrialProposed, TrialReported, TrialStarted, record_of
from sparkexp.result import Result, load, trials_to_arrow
from sparkexp.store import ExperimentStore
from sparkexp.trial import Trial

pytestmark = pytest.mark.timeout(60)


def done(index: int, metric: float | None, status: str = "complete", **fields) -> Trial:
    """A finished trial as the journal folds it back."""
    outputs = fields.pop("outputs", {} if metric is None else {"metric": metric})
    params = fields.pop("params", {"lr": 0.1 * (index + 1)})
    return Trial(f"trial_{index:05d}", index, params, status=status, metric=metric, outputs=outputs,
                 **fields)


# -- the best trial --------------------------------------------------------------------------


@pytest.mark.parametrize("direction, best_index", [("max", 2), ("min", 0)])
def test_best_follows_the_direction_and_skips_trials_without_a_metric(direction, best_index):
    trials = [done(0, 0.1), done(1, 0.5), done(2, 0.9), done(3, None, "error", error="boom"),
              done(4, 5.0, "stopped"), done(5, -5.0, "timeout")]
    res = Result("/p/Experiments/a_1", trials, direction=direction)
    assert res.best is trials[best_index]
    assert res.best_metric == trials[best_index].metric
    assert res.best_params == trials[best_index].params
    assert [t.index for t in res.completed] == [0, 1, 2]
    assert [t.index for t in res.failed] == [3, 5]  # a stopped trial is not a failure


def test_ties_go_to_the_first_proposed_trial_whatever_the_list_order():
    first, second = done(1, 0.7), done(4, 0.7)
    assert Result("/p", [second, first]).best is first
    assert Result("/p", [first, second], direction="min").best is first


def test_an_infeasible_trial_is_never_the_best_nor_on_the_front():
    violating = done(0, 0.99, constraints=[0.5, -1.0])
    feasible = done(1, 0.5, constraints=[-0.1, 0.0])
    res = Result("/p", [violating, feasible])
    assert res.best is feasible
    assert res.infeasible == [violating]
    assert res.pareto_front == [feasible]
    assert "1 trial(s) violate the constraints" in res.summary()


def test_best_params_is_a_copy_the_caller_may_change():
    res = Result("/p", [done(0, 1.0, params={"lr": 0.1})])
    res.best_params["lr"] = 99  # type: ignore[index]
    assert res.trials[0].params == {"lr": 0.1}


def test_nothing_completed_means_no_best():
    res = Result("/p", [done(0, None, "error"), Trial("trial_00001", 1, {}, status="running")])
    assert (res.best, res.best_params, res.best_metric, res.pareto_front) == (None, None, None, [])
    assert Result("/p", []).best is None


# -- hops' return values ---------------------------------------------------------------------


def test_a_search_unpacks_as_logdir_best_params_and_the_best_return_dict():
    res = Result("/root/Experiments/grid_3",
                 [done(0, 0.2, outputs={"metric": 0.2, "loss": 3.0}),
                  done(1, 0.8, params={"lr": 0.01, "layers": 2}, outputs={"metric": 0.8, "loss": 1.5})])
    logdir, best_params, return_dict = res
    assert logdir == "/root/Experiments/grid_3"
    assert best_params == {"lr": 0.01, "layers": 2}
    assert return_dict == {"metric": 0.8, "loss": 1.5}
    return_dict["loss"] = 0.0  # the caller's copy, not the record
    assert res.trials[1].outputs["loss"] == 1.5


def test_a_search_where_nothing_completed_unpacks_as_none_and_empty():
    assert tuple(Result("/r/x_1", [done(0, None, "error")])) == ("/r/x_1", None, {})


def test_launch_unpacks_as_logdir_and_the_return_dict_of_its_run():
    launch = {"strategy": "launch"}
    ok = Result("/r/l_1", [done(0, None, outputs={"accuracy": 0.9})], manifest=launch)
    # a function returning a dict without the metric completes without one: its last run counts
    assert tuple(ok) == ("/r/l_1", {"accuracy": 0.9})
    best = Result("/r/l_2", [done(0, 0.9), done(1, 0.1, outputs={"metric": 0.1, "x": 1})], manifest=launch)
    assert tuple(best) == ("/r/l_2", {"metric": 0.9})
    assert tuple(Result("/r/l_3", [], manifest=launch)) == ("/r/l_3", {})


# -- several objectives ----------------------------------------------------------------------

TWO = {"objectives": [{"metric": "acc", "direction": "max"}, {"metric": "ms", "direction": "min"}]}


def test_several_objectives_have_a_front_and_no_single_best():
    trials = [done(0, 0.9, outputs={"acc": 0.9, "ms": 30.0}),
              done(1, 0.8, outputs={"acc": 0.8, "ms": 10.0}),
              done(2, 0.7, outputs={"acc": 0.7, "ms": 20.0}),  # beaten by trial 1 on both
              done(3, 0.95, outputs={"acc": 0.95, "ms": 5.0}, constraints=[1.0]),  # infeasible
              done(4, None, "error")]
    res = Result("/r/multi_1", trials, manifest=TWO)
    assert res.objectives is not None and res.objectives.metrics == ("acc", "ms")
    assert [t.index for t in res.pareto_front] == [0, 1]
    assert (res.best, res.best_params) == (None, None)
    assert tuple(res) == ("/r/multi_1", None, {})
    summary = res.summary()
    assert "Pareto front of acc (max), ms (min): 2 trial(s)" in summary
    assert "best " not in summary


def test_one_objective_front_is_the_best_trial():
    res = Result("/r", [done(0, 0.3), done(1, 0.6)])
    assert res.objectives is None
    assert res.pareto_front == [res.trials[1]]


# -- for a terminal --------------------------------------------------------------------------


def test_summary_counts_statuses_names_the_best_and_where_the_records_are():
    res = Result("/root/Experiments/mnist_2/", [done(0, 0.25), done(1, 0.123456789),
                                                done(2, None, "error")],
                 direction="min", metric="loss", manifest={"state": "finished"})
    assert res.name == "mnist_2"
    assert res.state == "finished"
    assert res.summary().splitlines() == [
        "experiment mnist_2: 3 trials (2 complete, 1 error)",
        "best loss=0.123457 (min) at trial_00001: {'lr': 0.2}",
        "records: /root/Experiments/mnist_2/",
    ]
    assert repr(res) == "Result(path='/root/Experiments/mnist_2/', trials=3, best_metric=0.123456789)"


def test_summary_of_an_empty_experiment():
    res = Result("/r/empty_1", [])
    assert res.summary().splitlines() == ["experiment empty_1: 0 trials (none)", "records: /r/empty_1"]
    assert res.state == "unknown"


# -- tables ----------------------------------------------------------------------------------


def test_arrow_has_one_row_per_trial_with_params_and_outputs_as_columns():
    trials = [done(0, 0.5, params={"lr": 0.1}, outputs={"metric": 0.5, "loss": 2.0},
                   started=10.0, finished=12.5, host="h1", slot=0, spark_task=7, gpus=["0", "1"]),
              done(1, None, "error", params={"lr": 0.2, "layers": 3}, error="ValueError: x", attempt=2)]
    table = trials_to_arrow(trials)
    assert table.num_rows == 2
    # params and outputs in first-seen order, between the fixed columns
    assert table.column_names == [
        "id", "index", "status", "metric", "param.lr", "param.layers", "output.metric", "output.loss",
        "started", "finished", "duration", "attempt", "host", "executor", "slot", "spark_task", "gpus",
        "logdir", "error"]
    rows = table.to_pylist()
    assert rows[0]["param.layers"] is None and rows[1]["param.layers"] == 3
    assert rows[0]["duration"] == 2.5 and rows[1]["duration"] is None
    assert rows[0]["gpus"] == "0,1" and rows[1]["gpus"] == ""
    assert (rows[1]["status"], rows[1]["error"], rows[1]["attempt"]) == ("error", "ValueError: x", 2)
    assert table.schema.field("metric").type == pa.float64()
    assert table.schema.field("spark_task").type == pa.int64()


def test_a_column_of_mixed_types_is_kept_as_json_text():
    trials = [done(0, 1.0, params={"act": "relu", "sizes": [64, 32]}),
              done(1, 2.0, params={"act": 3, "sizes": [128]}),
              done(2, 3.0, params={"act": None, "sizes": {"a": 1}})]
    table = trials_to_arrow(trials)
    assert table.column("param.act").to_pylist() == ['"relu"', "3", None]
    assert table.column("param.sizes").to_pylist() == ["[64, 32]", "[128]", '{"a": 1}']


def test_the_feasible_column_appears_only_with_constraints():
    assert "feasible" not in trials_to_arrow([done(0, 1.0)]).column_names
    table = trials_to_arrow([done(0, 1.0, constraints=[-1.0]), done(1, 2.0, constraints=[0.5]),
                             done(2, 3.0)])
    assert table.column("feasible").to_pylist() == [True, False, None]


def test_pandas_view_has_the_same_rows():
    pytest.importorskip("pandas")
    res = Result("/r", [done(0, 0.5), done(1, 0.7)])
    frame = res.to_pandas()
    assert list(frame["id"]) == ["trial_00000", "trial_00001"]
    assert list(frame["metric"]) == [0.5, 0.7]
    assert list(frame.columns) == res.to_arrow().column_names


# -- reading a run back ----------------------------------------------------------------------


def test_load_reads_trials_settings_and_best_from_the_records(tmp_path):
    store = ExperimentStore.create(str(tmp_path), "sweep")
    store.write_manifest({"name": "sweep", "strategy": "random", "metric": "loss", "direction": "min",
                          "state": "finished"})
    events = []
    for i, loss in enumerate([0.4, 0.1, math.nan]):
        tid = f"trial_{i:05d}"
        events += [TrialProposed(tid, i, {"lr": 10.0 ** -i}, None, 1.0 + i),
                   TrialStarted(tid, 2.0 + i, host="h", slot=0),
                   TrialReported(tid, {"step": 1, "loss": loss})]
        if i < 2:  # the third is still running
            events.append(TrialFinished(tid, record_of(Trial(
                tid, i, {"lr": 10.0 ** -i}, status="complete", metric=loss, outputs={"loss": loss},
                started=2.0 + i, finished=3.0 + i))))
    store.append_events(e.to_json() for e in events)
    res = load(store.path + "/")
    assert res.path == store.path and res.name == "sweep_1"
    assert (res.metric, res.direction, res.state) == ("loss", "min", "finished")
    assert [t.status for t in res.trials] == ["complete", "complete", "running"]
    assert res.best is not None and res.best.id == "trial_00001"
    assert res.best_params == {"lr": 0.1}
    assert len(res.trials[2].history) == 1


def test_load_of_a_directory_without_records_names_it(tmp_path):
    from sparkexp.errors import StorageError

    with pytest.raises(StorageError, match="is not a sparkexp experiment"):
        load(str(tmp_path))


def test_load_defaults_for_a_manifest_without_metric_or_direction(tmp_path):
    store = ExperimentStore.create(str(tmp_path), "old")
    store.write_manifest({"name": "old", "metric": None})
    res = load(store.path)
    assert (res.metric, res.direction, res.trials) == ("metric", "max", [])
