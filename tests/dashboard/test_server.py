"""``sparkexp.dashboard.serve`` from Python: a handle with the URL, a notebook link, stop()."""

from __future__ import annotations

import json

import pytest
from support.dashboard_server import http
from support.synthetic import write_experiment

from sparkexp import dashboard
from sparkexp.errors import ConfigError


def test_serve_returns_a_running_handle_that_stops(tmp_path):
    root = str(tmp_path)
    write_experiment(root, "synthetic", trials=30)
    board = dashboard.serve(root)
    try:
        assert board.running and board.url == f"{board.base_url}?token={board.token}"
        assert board.base_url.startswith("http://127.0.0.1:") and board.port > 0
        code, _, body = http(board.base_url + "api/experiments", headers={"Authorization": f"Token {board.token}"})
        assert code == 200 and json.loads(body)["experiments"][0]["trials"] == 30
        link = board._repr_html_()
        assert link.startswith(f'<a href="{board.url}"') and "sparkexp dashboard" in link
        assert board.root.rstrip("/") == root and repr(board) == f"DashboardServer(url={board.base_url!r}, root={board.root!r})"
    finally:
        board.stop()
    assert not board.running
    with pytest.raises(OSError):
        http(board.base_url + "api/experiments", timeout=5)


def test_bad_arguments_fail_before_anything_starts(tmp_path):
    with pytest.raises(ConfigError, match="needs a token"):
        dashboard.serve(str(tmp_path), host="0.0.0.0", token=None)
    with pytest.raises(ConfigError, match="port must be"):
        dashboard.serve(str(tmp_path), port=70000)
    with dashboard.serve(str(tmp_path), token="fixed-token") as board:
        assert board.token == "fixed-token"
        with pytest.raises(ConfigError, match="cannot listen"):
            dashboard.serve(str(tmp_path), port=board.port)
