"""The experiment manifest as ``resume`` and readers meet it (no Spark): what ran, with every
option, how it ended; written through the store and read back, it rebuilds the same options,
the same search and the function.

Every option's own round trip: tests/test_options.py; resume of real runs: tests/test_resume.py.
"""

from __future__ import annotations

import json
import platform

import pyspark
import pytest

import sparkexp
from sparkexp._refs import import_ref
from sparkexp.options import RunOptions
from sparkexp.runner.manifest import RunSettings, build_manifest
from sparkexp.search import BOHBSearch, RandomSearch, from_settings
from sparkexp.search.stopping import make_stopper
from sparkexp.status import ExperimentState
from sparkexp.store import ExperimentStore
from sparkexp.trial import Trial

pytestmark = pytest.mark.timeout(60)

SPACE = {"lr": [0.0001, 0.1], "layers": [1, 2, 3]}


def train(lr: float, layers: int) -> float:
    return lr * layers


def manifest_of(search, fn=train, *, options: RunOptions | None = None, stopper=None,
                trials: list[Trial] | None = None, state=ExperimentState.FINISHED, **extra) -> dict:
    options = options or RunOptions(metric="accuracy")
    settings = RunSettings(options=options, project_root="/data/project/",
                           fn_name=getattr(fn, "__name__", "fn"), stopper=stopper,
                           manifest_extra=extra)
    return build_manifest(name="sweep", search=search, fn=fn, settings=settings,
                          metric=options.main_metric,
                          app_id="local-1700000000000", master="local[2]", job_group="sparkexp-sweep_1",
                          state=state, abort_reason=None, created=100.0, resumed=[200.0, 300.0],
                          finished=None if state is ExperimentState.RUNNING else 400.0,
                          trials=trials or [])


def written_and_read(tmp_path, manifest: dict) -> dict:
    """The manifest as a later process reads it: through the store, as JSON."""
    store = ExperimentStore.create(str(tmp_path), "sweep")
    store.write_manifest(manifest)
    with open(store.path + "/experiment.json") as f:
        assert json.load(f) == store.read_manifest()
    return store.read_manifest()


def test_the_manifest_records_what_ran_where_and_how_it_ended(tmp_path):
    trials = [Trial("trial_00000", 0, {}, status="complete", metric=1.0),
              Trial("trial_00001", 1, {}, status="error"),
              Trial("trial_00002", 2, {}, status="complete", metric=2.0),
              Trial("trial_00003", 3, {}, status="queued")]
    m = written_and_read(tmp_path, manifest_of(RandomSearch(SPACE, samples=4, seed=1), trials=trials,
                                               state=ExperimentState.TIMEOUT))
    assert (m["name"], m["strategy"], m["function"], m["metric"]) == ("sweep", "random", "train", "accuracy")
    assert (m["project_root"], m["app_id"], m["master"], m["job_group"]) == \
        ("/data/project/", "local-1700000000000", "local[2]", "sparkexp-sweep_1")
    assert (m["state"], m["abort_reason"], m["created"], m["resumed"], m["finished"]) == \
        ("timeout", None, 100.0, [200.0, 300.0], 400.0)
    assert m["counts"] == {"complete": 2, "error": 1, "queued": 1}
    assert m["versions"] == {"sparkexp": sparkexp.__version__, "pyspark": pyspark.__version__,
                             "python": platform.python_version()}


def test_a_running_experiment_has_no_end_time():
    m = manifest_of(RandomSearch(SPACE, samples=2, seed=0), state=ExperimentState.RUNNING)
    assert (m["state"], m["finished"], m["counts"]) == ("running", None, {})


def test_the_recorded_search_proposes_what_the_original_proposed(tmp_path):
    original = RandomSearch(SPACE, samples=5, seed=7)
    m = written_and_read(tmp_path, manifest_of(original))
    rebuilt = from_settings(m["strategy"], m["search"])
    first = original.ask(5)
    again = rebuilt.ask(5)
    assert len(first) == 5
    assert [c.params for c in again] == [c.params for c in first]
    assert len({json.dumps(c.params, sort_keys=True) for c in first}) > 1  # it really samples


def test_the_recorded_function_imports_again_and_a_lambda_records_none():
    m = manifest_of(RandomSearch(SPACE, samples=1, seed=0))
    assert m["function_ref"] == f"{__name__}:train"
    assert import_ref(m["function_ref"]) is train
    anonymous = manifest_of(RandomSearch(SPACE, samples=1, seed=0), fn=lambda lr, layers: lr)
    assert anonymous["function_ref"] is None  # resume then asks for the function
    assert anonymous["function"] == "<lambda>"


def test_every_option_comes_back_from_the_written_manifest(tmp_path):
    options = RunOptions(direction="min", metric="loss", max_parallel=3, root="/data/project/",
                         target=0.01, timeout=600, trial_timeout=60,
                         early_stopping={"name": "asha", "max_steps": 27}, max_trial_retries=2,
                         max_failures=5, kill_grace=1.5, echo_output="tail", gpus_per_trial=0,
                         cpus_per_trial=2, local_logdir=True, description="a sweep",
                         constraints={"latency": {"max": 120}}, keep_checkpoints=4)
    m = written_and_read(tmp_path, manifest_of(RandomSearch(SPACE, samples=1, seed=0), options=options))
    back = RunOptions.from_manifest(m)
    # the stopper comes back as its full settings, the same rule as the one given
    assert m["early_stopping"] == make_stopper({"name": "asha", "max_steps": 27}).settings()
    assert back.stopper().settings() == options.stopper().settings()
    assert back.replace(early_stopping=None) == options.replace(early_stopping=None)


def test_several_objectives_record_the_first_as_metric_and_all_as_objectives(tmp_path):
    options = RunOptions(metric=["acc", "ms"], direction=["max", "min"])
    m = written_and_read(tmp_path, manifest_of(RandomSearch(SPACE, samples=1, seed=0), options=options))
    assert (m["metric"], m["direction"]) == ("acc", "max")
    assert m["objectives"] == [{"metric": "acc", "direction": "max"}, {"metric": "ms", "direction": "min"}]
    # no root given: the project root it ran under is the one resume uses
    assert RunOptions.from_manifest(m) == options.replace(root="/data/project/")


def test_the_stopper_in_use_is_recorded_unless_the_search_is_its_own_stopper():
    asha = make_stopper("asha")
    given = manifest_of(RandomSearch(SPACE, samples=1, seed=0), stopper=asha)
    assert given["early_stopping"] == asha.settings() and given["early_stopping"]["name"] == "asha"
    # BOHB stops trials itself: it is rebuilt from its settings, so early_stopping stays empty
    bohb = BOHBSearch({"lr": [0.001, 0.1]}, trials=9, max_steps=9, seed=3)
    own = manifest_of(bohb, stopper=bohb)
    assert own["early_stopping"] is None
    assert own["strategy"] == "bohb" and own["search"] == bohb.settings()


def test_extra_entries_of_the_entry_point_are_recorded_beside_the_rest():
    m = manifest_of(RandomSearch(SPACE, samples=1, seed=0),
                    resources={"slots": 2, "gpus": 0}, spec="/jobs/sweep.yaml")
    assert m["resources"] == {"slots": 2, "gpus": 0} and m["spec"] == "/jobs/sweep.yaml"
    assert m["strategy"] == "random"  # the rest is unchanged
