"""Actions through the API: retry failed trials runs ``sparkexp retry`` (a real child process
with its own Spark session) and the new attempts appear in the same records; the retry's log
is removed when the server stops."""

from __future__ import annotations

import os
import time

from support.dashboard_jobs import learner
from support.dashboard_server import DashboardProcess

from sparkexp import experiment


def test_retry_failed_trials_from_the_api(spark, tmp_path):
    root = str(tmp_path / "project")
    (tmp_path / "project").mkdir()
    markers = tmp_path / "markers"
    markers.mkdir()
    res = experiment.grid_search(spark, learner, {"lr": [0.1], "layers": [1, 2], "marker_dir": [str(markers)]},
                                 root=root, name="flaky", metric="accuracy", progress=False)
    assert [t.status for t in res.trials] == ["error", "complete"]
    tmp = tmp_path / "tmp"  # the server's $TMPDIR: it keeps the retries' logs there while it runs
    tmp.mkdir()
    with DashboardProcess.start(root, "--master", "local[1]", env={"TMPDIR": str(tmp)}) as server:
        code, _, body = server.request("/api/experiments/flaky_1/retry", method="POST", body={"failed": True})
        assert code == 202, body
        (logs,) = [p for p in os.listdir(tmp) if p.startswith("sparkexp-dashboard-")]
        assert os.listdir(tmp / logs) == ["action_1.log"]
        deadline = time.monotonic() + 300
        while True:
            (action,) = server.get("/api/actions")["actions"]
            if not action["running"] or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert action["returncode"] == 0, action.get("output")
        assert action["argv"][-5:] == ["retry", res.path, "--failed", "--master", "local[1]"]
        # the page's data source sees the new attempt, without a restart of the server
        time.sleep(1)
        trials = server.get("/api/experiments/flaky_1/trials")["trials"]
        assert [(t["status"], t["attempt"]) for t in trials] == [("complete", 2), ("complete", 1)]
        assert server.get("/api/experiments/flaky_1/trials?status=error")["count"] == 0
        # nothing left to retry
        code, _, _ = server.request("/api/experiments/flaky_1/retry", method="POST", body={})
        assert code == 409
    # stopped, the server leaves nothing behind
    assert [p for p in os.listdir(tmp) if p.startswith("sparkexp-dashboard-")] == []
