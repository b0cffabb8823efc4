"""Server push: the event streams say when a journal changed, and the pages redraw on their
events instead of polling (real ``sparkexp serve`` process, real HTTP, real headless Chromium).

The experiment's journal is grown by hand (``support.growing``), so each change happens at a
known moment and nothing else changes the journal between them.
"""

from __future__ import annotations

import time

import pytest
from support.dashboard_server import DashboardProcess
from support.growing import GrowingExperiment
from support.sse import EventStream

READY = "document.documentElement.dataset.ready === '1'"
TABLE_READY = READY + " && !!document.querySelector('#trial-table')"


def _row_is(tid: str, status: str) -> str:
    """A page expression: the trial table shows trial ``tid`` with ``status``."""
    return f"!!document.querySelector('#trial-table tr[data-id=\"{tid}\"] .badge.{status}')"


def _view_requests(page, exp_id: str) -> int:
    """How many times the page has read the experiment's view from the API so far."""
    page.evaluate("0")  # reads the DevTools events that arrived meanwhile
    return sum(1 for u in page.requests() if f"/api/experiments/{exp_id}/view" in u)


def _open_experiment(browser, server, exp, *, block_streams: bool = False):
    """A new tab on the experiment's page (the token's cookie set first); with
    ``block_streams`` the browser refuses the event streams, as a proxy that cuts them would."""
    page = browser.new_page()
    page.goto(server.url, READY)
    if block_streams:
        page.call("Network.setBlockedURLs", urls=["*/events*"])
    page.goto(f"{server.base}/experiments/{exp.id}", TABLE_READY)
    page.wait_for(_row_is("trial_00001", "running"), 10)
    return page


@pytest.fixture
def growing(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    exp = GrowingExperiment.create(str(root), "grow")
    exp.start(0)
    exp.start(1)
    exp.finish(0, 0.5)
    return str(root), exp


def test_the_stream_sends_an_event_when_the_journal_grows_and_none_while_it_does_not(growing):
    root, exp = growing
    with DashboardProcess.start(root) as server:
        base = f"/api/experiments/{exp.id}"
        with EventStream(server.base, base + "/events", server.token) as stream:
            assert stream.status == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            first = stream.next(timeout=15)
            assert first.name == "change"
            assert first.data["state"] == "running" and first.data["trials"] == 2
            cursor = first.data["cursor"]
            assert stream.drain(2.0) == []  # nothing changed, nothing sent
            appended = time.monotonic()
            exp.finish(1, 0.9)
            event = stream.next(timeout=5)
            lag = event.arrived - appended
            print(f"event {lag:.2f} s after the journal grew")
            assert lag < 2.0 and event.data["cursor"] > cursor
            # the event says only that something changed; the API says what
            changed = server.get(f"{base}/trials?since={cursor}")["trials"]
            assert [(t["id"], t["status"]) for t in changed] == [("trial_00001", "complete")]
            exp.end()  # the manifest changing is an event too (an ended experiment is read every 3 s)
            ended = stream.next(timeout=8)
            assert ended.data["state"] == "finished" and ended.data["cursor"] == event.data["cursor"]
        # the project's stream: an experiment that appears is an event
        with EventStream(server.base, "/api/events", server.token) as stream:
            assert list(stream.next(timeout=15).data["experiments"]) == [exp.id]
            other = GrowingExperiment.create(root, "other")
            assert set(stream.next(timeout=8).data["experiments"]) == {exp.id, other.id}
        # streams need the token like every other request
        with EventStream(server.base, "/api/events", "wrong") as refused:
            assert refused.status == 401
        with EventStream(server.base, "/api/experiments/nope_1/events", server.token) as missing:
            assert missing.status == 404
        # stopping the server ends an open stream (it does not hold the exit)
        stream = EventStream(server.base, base + "/events", server.token)
        stream.next(timeout=15)
        started = time.monotonic()
        server.stop()
        assert stream.ended.wait(10) and server.proc.returncode == 0
        print(f"server stopped with a stream open in {time.monotonic() - started:.2f} s")
        stream.close()


@pytest.mark.browser
def test_the_page_shows_a_finished_trial_without_polling(growing, browser):
    root, exp = growing
    with DashboardProcess.start(root) as server:
        page = _open_experiment(browser, server, exp)
        try:
            assert page.evaluate("document.documentElement.dataset.live") == "push"
            time.sleep(1.0)  # the stream's first event (and the read it makes) is behind us
            reads = _view_requests(page, exp.id)
            time.sleep(3.0)
            assert _view_requests(page, exp.id) == reads, "the page read the API with nothing new"
            appended = time.monotonic()
            exp.finish(1, 0.9)
            page.wait_for(_row_is("trial_00001", "complete"), 10)
            lag = time.monotonic() - appended
            print(f"page showed the finished trial {lag:.2f} s after the journal grew")
            assert lag < 2.5
            assert 1 <= _view_requests(page, exp.id) - reads <= 3
            assert page.problems() == []
        finally:
            browser.close_page(page)


@pytest.mark.browser
def test_when_the_stream_fails_the_page_polls(growing, browser):
    root, exp = growing
    with DashboardProcess.start(root) as server:
        page = _open_experiment(browser, server, exp, block_streams=True)
        try:
            page.wait_for("document.documentElement.dataset.live === 'poll'", 10)
            reads = _view_requests(page, exp.id)
            time.sleep(4.0)
            assert _view_requests(page, exp.id) >= reads + 2  # about one read a second
            exp.finish(1, 0.9)
            page.wait_for(_row_is("trial_00001", "complete"), 10)
            assert page.evaluate("document.getElementById('live-state').textContent") == "live"
            blocked = [p for p in page.problems() if "events" not in p]
            assert blocked == [], blocked
        finally:
            browser.close_page(page)

