"""Operating an experiment from another process, where no Spark is needed: ``status`` from the
records, its terminal text, ``kill``/``pause``/``resume_trial`` when no driver answers (none,
a stale endpoint, a wrong token), ``resolve_function`` and the checks ``retry`` makes before
it starts anything.

Against a live driver (status while trials run, kill, retry of stopped and failed trials):
tests/test_operate.py; pause and resume of trials with checkpoints: tests/test_checkpoints.py.
"""

from __future__ import annotations

import queue
import socket
import threading

import pytest

from sparkexp import control
from sparkexp.errors import ChannelError, ConfigError, StorageError
from sparkexp.journal import TrialFinished, TrialProposed, TrialReported, TrialStarted, record_of
from sparkexp.runner import channel
from sparkexp.runner.server import Event, TrialServer
from sparkexp.store import ExperimentStore
from sparkexp.trial import Trial

pytestmark = pytest.mark.timeout(60)


def recorded(tmp_path, *, state: str = "running", **manifest) -> ExperimentStore:
    """An experiment's records as a driver leaves them: two finished trials (one failed), two
    running (one has reported twice, one not yet), one queued."""
    store = ExperimentStore.create(str(tmp_path), "sweep")
    store.write_manifest({"name": "sweep", "strategy": "random", "metric": "loss", "direction": "min",
                          "state": state, **manifest})
    events: list = []
    for i in range(5):
        events.append(TrialProposed(f"trial_{i:05d}", i, {"lr": 0.1 * (i + 1)}, None, 1.0))
    for i in range(4):
        events.append(TrialStarted(f"trial_{i:05d}", 2.0 + i, host=f"host{i}", slot=i, task=40 + i))
    events.append(TrialFinished("trial_00000", record_of(Trial(
        "trial_00000", 0, {"lr": 0.1}, status="complete", metric=0.25, outputs={"loss": 0.25}))))
    events.append(TrialFinished("trial_00001", record_of(Trial(
        "trial_00001", 1, {"lr": 0.2}, status="error", error="ValueError: bad"))))
    events += [TrialReported("trial_00002", {"step": 1, "loss": 0.9, "_time": 5.0}),
               TrialReported("trial_00002", {"step": 2, "loss": 0.7, "_time": 6.0})]
    store.append_events(e.to_json() for e in events)
    return store


# -- status ----------------------------------------------------------------------------------


def test_status_counts_shows_running_trials_with_their_last_report_and_the_best(tmp_path):
    store = recorded(tmp_path)
    info = control.status(store.path + "/")
    assert info["path"] == store.path
    assert (info["name"], info["state"], info["strategy"], info["metric"], info["direction"]) == \
        ("sweep", "running", "random", "loss", "min")
    assert (info["trials"], info["finished"], info["failed"]) == (5, 2, 1)
    assert info["counts"] == {"complete": 1, "error": 1, "running": 2, "queued": 1}
    assert info["running"] == [
        {"id": "trial_00002", "params": {"lr": 0.30000000000000004}, "host": "host2", "started": 4.0,
         "slot": 2, "spark_task": 42, "last": {"step": 2, "loss": 0.7}},  # the report's time is left out
        {"id": "trial_00003", "params": {"lr": 0.4}, "host": "host3", "started": 5.0,
         "slot": 3, "spark_task": 43, "last": None},
    ]
    assert info["best"] == {"id": "trial_00000", "metric": 0.25, "params": {"lr": 0.1}}
    assert info["live"] is False


def test_status_is_live_while_a_control_endpoint_is_published(tmp_path):
    store = recorded(tmp_path)
    store.write_control({"host": "127.0.0.1", "port": 1, "token": "t"})
    assert control.status(store.path)["live"] is True
    store.remove_control()
    assert control.status(store.path)["live"] is False


def test_format_status_for_a_terminal(tmp_path):
    store = recorded(tmp_path)
    store.write_control({"host": "127.0.0.1", "port": 1, "token": "t"})
    lines = control.format_status(control.status(store.path)).splitlines()
    assert lines == [
        "sweep: running (driver running), random search",
        "trials: 5 (1 complete, 1 error, 1 queued, 2 running); finished 2, failed 1",
        "best loss=0.25 at trial_00000: {'lr': 0.1}",
        "  running trial_00002 (host2, slot 2, Spark task 42): {'lr': 0.30000000000000004} | step=2, loss=0.7",
        "  running trial_00003 (host3, slot 3, Spark task 43): {'lr': 0.4} | no report yet",
    ]


def test_status_of_an_experiment_without_trials(tmp_path):
    store = ExperimentStore.create(str(tmp_path), "new")
    store.write_manifest({"name": "new", "strategy": "grid", "state": "running", "metric": None})
    info = control.status(store.path)
    assert (info["trials"], info["best"], info["running"], info["metric"]) == (0, None, [], "metric")
    assert control.format_status(info).splitlines() == [
        "new: running, grid search", "trials: 0 (no trials); finished 0, failed 0"]


def test_status_of_something_that_is_not_an_experiment_names_it(tmp_path):
    with pytest.raises(StorageError, match="is not a sparkexp experiment"):
        control.status(str(tmp_path))


# -- kill, pause, resume without a driver to answer -----------------------------------------


def closed_port() -> int:
    sock = socket.create_server(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


def test_no_driver_no_kill(tmp_path):
    store = recorded(tmp_path, state="finished")
    assert control.kill(store.path, timeout=2) is False


def test_a_stale_endpoint_left_by_a_dead_driver_is_no_driver(tmp_path):
    store = recorded(tmp_path, state="running")
    store.write_control({"host": "127.0.0.1", "port": closed_port(), "token": channel.new_secret()})
    assert control.kill(store.path, timeout=2) is False
    with pytest.raises(StorageError, match=r"no driver is running .*sweep_1; cannot pause trial_00002"):
        control.pause(store.path, "trial_00002", timeout=2)
    with pytest.raises(StorageError, match="cannot resume trial_00002 .sparkexp resume PATH runs"):
        control.resume_trial(store.path, "trial_00002", timeout=2)


@pytest.fixture()
def driver_endpoint():
    """A real driver's channel server with its control role, and the queue its loop would read."""
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    token = channel.new_secret()
    server = TrialServer(channel.new_secret(), events, control_secret=token, handshake_timeout=2)
    yield server, token, events
    server.close()


def test_a_wrong_token_is_refused_and_reaches_nothing(tmp_path, driver_endpoint):
    """control.json of another experiment (or a forged one) against this driver."""
    server, _token, events = driver_endpoint
    store = recorded(tmp_path)
    store.write_control({"host": "127.0.0.1", "port": server.port, "token": channel.new_secret()})
    with pytest.raises(ChannelError, match="refused"):
        control.kill(store.path, timeout=5)
    with pytest.raises(ChannelError, match="refused"):
        control.pause(store.path, "trial_00002", timeout=5)
    assert server.rejected == 2
    with pytest.raises(queue.Empty):  # the driver loop heard nothing
        events.get(timeout=0.3)


def test_the_right_token_reaches_the_driver_loop_with_the_request(tmp_path, driver_endpoint):
    server, token, events = driver_endpoint
    store = recorded(tmp_path)
    store.write_control({"host": "127.0.0.1", "port": server.port, "token": token})
    # the loop refuses the pause, as a driver does for a trial it does not know
    answered: list[dict] = []

    def loop() -> None:
        event = events.get(timeout=10)
        answered.append(event.payload)
        event.conn.replies.put({"op": "error", "error": "no trial 'trial_00009' in " + store.path})

    thread = threading.Thread(target=loop)
    thread.start()
    with pytest.raises(ConfigError, match="cannot pause trial_00009: no trial 'trial_00009' in"):
        control.pause(store.path, "trial_00009", timeout=5)
    thread.join(10)
    assert answered == [{"op": "pause", "trial": "trial_00009"}]


@pytest.mark.parametrize("trial", ["", None, 3])
def test_pause_and_resume_need_a_trial_name_before_connecting(tmp_path, trial):
    store = recorded(tmp_path)  # no endpoint: the name is checked first
    with pytest.raises(ConfigError, match=r"pause: name the trial, e.g. trial_00003, got"):
        control.pause(store.path, trial, timeout=1)
    with pytest.raises(ConfigError, match=r"resume: name the trial"):
        control.resume_trial(store.path, trial, timeout=1)


# -- functions recorded in manifests ---------------------------------------------------------


def test_resolve_function_imports_module_and_qualified_name():
    import collections
    import os.path

    assert control.resolve_function("os.path:join") is os.path.join
    assert control.resolve_function("collections:OrderedDict.fromkeys") == collections.OrderedDict.fromkeys
    assert control.resolve_function("sparkexp.control:status") is control.status


@pytest.mark.parametrize("ref, words", [
    ("os.path.join", "function reference must be 'module:function', got 'os.path.join'"),
    (":join", "must be 'module:function'"),
    ("os.path:", "must be 'module:function'"),
    ("no_such_module_xyz:train", "cannot import module 'no_such_module_xyz' of function"),
    ("os.path:no_such_function", "module 'os.path' has no function 'no_such_function'"),
    ("collections:OrderedDict.nope", "module 'collections' has no function 'OrderedDict.nope'"),
])
def test_resolve_function_names_what_is_wrong(ref, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(".", r"\.")):
        control.resolve_function(ref)


# -- retry: the checks before any Spark job --------------------------------------------------


def test_retry_refuses_an_experiment_still_running(tmp_path):
    store = recorded(tmp_path, state="running", function_ref="os.path:join")
    store.write_control({"host": "127.0.0.1", "port": 1, "token": "t"})
    with pytest.raises(StorageError, match="is still running; retry it once it ended"):
        control.retry(None, store.path)


def test_retry_of_a_running_state_without_a_driver_goes_on(tmp_path):
    """A driver that died leaves state running and no endpoint: its trials can be retried."""
    store = recorded(tmp_path, state="running")  # no function_ref: the next check speaks
    with pytest.raises(ConfigError, match="does not record an importable function; pass fn="):
        control.retry(None, store.path)


def test_retry_needs_something_to_retry(tmp_path):
    store = recorded(tmp_path, state="finished", function_ref="os.path:join")
    with pytest.raises(ConfigError, match="retry needs failed=True and/or stopped=True"):
        control.retry(None, store.path, failed=False, stopped=False)


def test_retry_with_a_function_that_no_longer_imports(tmp_path):
    store = recorded(tmp_path, state="finished", function_ref="gone_module_xyz:train")
    with pytest.raises(ConfigError, match="cannot import module 'gone_module_xyz'"):
        control.retry(None, store.path)


def test_retry_with_nothing_failed_returns_the_records_without_starting_anything(tmp_path):
    store = recorded(tmp_path, state="finished", function_ref="os.path:join")
    # only stopped trials asked for, and there are none: no session is needed
    res = control.retry(None, store.path, failed=False, stopped=True)
    assert res.path == store.path
    assert [t.status for t in res.trials] == ["complete", "error", "running", "running", "queued"]
