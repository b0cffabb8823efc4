"""The REST API over a real experiment's records, through a real ``sparkexp serve`` process."""

from __future__ import annotations

import json

import pytest


def test_lists_experiments_with_state_progress_and_best(server, project):
    root, res = project
    data = server.get("/api/experiments")
    assert data["root"].rstrip("/") == root.rstrip("/")
    rows = {e["id"]: e for e in data["experiments"]}
    assert sorted(rows) == ["grid_1", "other_1"]
    row = rows[res.name]
    assert row["state"] == "finished" and row["live"] is False
    assert row["strategy"] == "grid" and row["metric"] == "accuracy" and row["direction"] == "max"
    assert (row["trials"], row["planned"], row["finished_trials"], row["failed"], row["progress"]) == (6, 6, 6, 4, 1.0)
    assert row["best"]["id"] == res.best.id and row["best"]["metric"] == pytest.approx(res.best_metric)
    assert row["created"] == pytest.approx(res.manifest["created"]) and row["duration"] > 0
    # filter and search
    assert server.get("/api/experiments?state=running")["experiments"] == []
    assert rows["other_1"]["failed"] == 0 and rows["other_1"]["trials"] == 2
    assert [e["id"] for e in server.get("/api/experiments?state=finished&q=OTHER")["experiments"]] == ["other_1"]
    # the search also reads the strategy: both are grid searches
    assert len(server.get("/api/experiments?q=grid")["experiments"]) == 2
    assert server.get("/api/experiments?q=nothing-like-this")["experiments"] == []


def test_trials_filter_by_status(server, project):
    _, res = project
    every = server.get("/api/experiments/grid_1/trials")
    assert [t["id"] for t in every["trials"]] == [t.id for t in res.trials]
    errors = server.get("/api/experiments/grid_1/trials?status=error")
    assert errors["count"] == 4 == len(errors["trials"])
    assert {t["id"] for t in errors["trials"]} == {t.id for t in res.trials if t.status == "error"}
    assert all("ValueError: diverged" in t["error"] for t in errors["trials"])
    complete = server.get("/api/experiments/grid_1/trials?status=complete")["trials"]
    assert sorted(t["params"]["layers"] for t in complete) == [2, 2]
    assert server.get("/api/experiments/grid_1/trials?status=failed")["count"] == 4  # error + timeout
    assert server.get("/api/experiments/grid_1/trials?status=complete,error")["count"] == 6
    assert server.get("/api/experiments/grid_1/trials?status=running")["count"] == 0
    # nothing changed since the cursor the server gave
    cursor = every["cursor"]
    assert server.get(f"/api/experiments/grid_1/trials?since={cursor}")["trials"] == []


def test_one_trial_its_metadata_stream_and_logs(server, project):
    _, res = project
    trial = res.trials[1]
    record = server.get(f"/api/experiments/grid_1/trials/{trial.id}")
    assert record["params"]["lr"] == trial.params["lr"] and record["status"] == trial.status
    assert record["executor"] == trial.executor and record["slot"] == trial.slot
    meta = server.get(f"/api/experiments/grid_1/trials/{trial.id}/metadata")
    assert [m["step"] for m in meta["metadata"]] == [0, 1, 2, 3] and meta["next"] == 4
    assert all(isinstance(m["_time"], float) for m in meta["metadata"])
    assert meta["metadata"][-1]["accuracy"] == pytest.approx(trial.params["lr"] * trial.params["layers"])
    assert server.get(f"/api/experiments/grid_1/trials/{trial.id}/metadata?since=3")["metadata"] == meta["metadata"][3:]
    log = server.get(f"/api/experiments/grid_1/trials/{trial.id}/logs?stream=stdout")
    assert f"training lr={trial.params['lr']} layers={trial.params['layers']}" in log["text"]
    assert log["offset"] == 0 and log["next"] == len(log["text"].encode())
    # following: from the end there is nothing new
    more = server.get(f"/api/experiments/grid_1/trials/{trial.id}/logs?stream=stdout&offset={log['next']}")
    assert more["text"] == "" and more["next"] == log["next"]


def test_view_is_the_reports_payload_and_a_delta(server, project):
    _, res = project
    view = server.get("/api/experiments/grid_1/view")
    assert view["full"] is True and [r["id"] for r in view["trials"]] == [t.id for t in res.trials]
    assert [p["name"] for p in view["params"]] == ["lr", "layers", "marker_dir"]
    assert view["best_id"] == res.best.id and view["counts"] == {"error": 4, "complete": 2}
    assert view["objectives"] is None and view["pareto_ids"] == []  # one objective: no front
    again = server.get(f"/api/experiments/grid_1/view?since={view['cursor']}&spec={view['spec']}")
    assert again["full"] is False and again["trials"] == []
    stale = server.get(f"/api/experiments/grid_1/view?since={view['cursor']}&spec=outdated")
    assert stale["full"] is True and len(stale["trials"]) == 6


@pytest.mark.parametrize("path, status", [
    ("/api/experiments/nope_1", 404),
    ("/api/experiments/..%2F..%2Fetc", 404),
    ("/api/experiments/%2e%2e", 404),
    ("/api/experiments/grid_1/trials/..%2Fexperiment.json", 404),
    ("/api/experiments/grid_1/trials/trial_00000%2F..%2F..%2Fgrid_1", 404),
    ("/api/experiments/grid_1/trials/trial_99999", 404),
    ("/api/experiments/grid_1/trials/trial_00000/logs?stream=..%2Ftrial.json", 400),
    ("/api/experiments/grid_1/trials/trial_00000/logs?offset=-5", 400),
    ("/api/experiments/grid_1/trials?status=bogus", 400),
    ("/api/experiments/grid_1/trials?since=abc", 400),
    ("/api/experiments/grid_1/view?since=1e9", 400),
    ("/api/experiments/grid_1/trials/trial_00000/metadata?since=-1", 400),
    ("/api/nothing/here", 404),
    ("/static/..%2F_app.py", 404),
    ("/static/nope.js", 404),
])
def test_bad_ids_and_malformed_requests_get_a_4xx_json_never_a_file_or_traceback(server, path, status):
    code, headers, body = server.request(path)
    assert code == status, body
    assert headers["content-type"].startswith("application/json")
    data = json.loads(body)
    assert data["status"] == status and isinstance(data["error"], str) and data["error"]
    assert b"Traceback" not in body and b"import " not in body and b'"name"' not in body


def test_wrong_methods_and_bodies_are_4xx_json(server):
    code, _, body = server.request("/api/experiments", method="POST", body={})
    assert code == 405 and json.loads(body)["status"] == 405
    code, _, body = server.request("/api/experiments/grid_1/retry", method="POST", body=b"{not json")
    assert code == 400 and "JSON object" in json.loads(body)["error"]
    code, _, body = server.request("/api/experiments/grid_1/retry", method="POST", body=[1, 2])
    assert code == 400
    code, _, body = server.request("/api/experiments/grid_1/retry", method="POST", body={"failed": "yes"})
    assert code == 400 and "true or false" in json.loads(body)["error"]
    code, _, body = server.request("/api/experiments/grid_1/kill", method="POST")
    assert code == 409 and "no driver is running" in json.loads(body)["error"]
