"""Server push: Server-Sent Events that say when an experiment, or the project, changed.

The pages used to ask the API once a second whether anything changed. Now each page opens one
``text/event-stream`` (browsers' ``EventSource``) and asks the API only when told: the server
already tails every journal incrementally (:class:`~sparkexp.dashboard._journal.JournalTail`,
refreshed at most every 0.4 s per experiment however many clients ask), so a stream checks its
experiment every :data:`TICK` seconds and sends an event when the experiment's version (journal
polls that changed a trial, manifest, driver alive) moved. Events carry only versions; the data
stays in the REST API, which is unchanged. Between events a comment line every
:data:`KEEPALIVE` seconds keeps proxies from closing an idle stream and notices a client that left.

- ``GET /api/experiments/<id>/events``: ``event: change`` with
  ``{"cursor": ..., "state": ..., "live": ..., "trials": ...}`` (``cursor`` as in ``view?since=``).
- ``GET /api/events``: ``event: change`` with ``{"experiments": {<id>: "<cursor>.<manifest>.<live>"}}``,
  whenever an experiment appears or changes.

Example::

    $ curl -N -H "Authorization: Token $TOKEN" http://127.0.0.1:8765/api/experiments/mnist_3/events
    event: change
    data: {"cursor":12,"state":"running","live":true,"trials":40}

A stream ends when the client leaves or the server stops.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from sparkexp.dashboard._api import _experiment

__all__ = ["push_routes", "event_text", "TICK", "KEEPALIVE"]

#: seconds between a stream's looks at its experiment (the journal is read at most every 0.4 s)
TICK = 0.25
#: seconds of quiet after which a stream sends a comment line
KEEPALIVE = 15.0

_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no", "x-content-type-options": "nosniff"}


def event_text(event: str, data: Any) -> str:
    """One Server-Sent Event: its name and its data as compact JSON on one line.

    >>> event_text("change", {"cursor": 3})
    'event: change\\ndata: {"cursor":3}\\n\\n'
    """
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n"


async def _changes(request: Request, probe: Callable[[], tuple[Any, Any]]) -> AsyncIterator[str]:
    """An event each time ``probe()`` (run in a worker thread: it may read the filesystem)
    returns a new version; ``probe`` returns ``(version, data)``."""
    stopping: threading.Event = request.app.state.stopping
    last: Any = None
    quiet_since = time.monotonic()
    while not stopping.is_set():
        version, data = await run_in_threadpool(probe)
        now = time.monotonic()
        if version != last:
            last, quiet_since = version, now
            yield event_text("change", data)
        elif now - quiet_since >= KEEPALIVE:
            quiet_since = now
            yield ": keep-alive\n\n"
        if await request.is_disconnected():
            return
        await anyio.sleep(TICK)


def _stream(request: Request, probe: Callable[[], tuple[Any, Any]]) -> Response:
    return StreamingResponse(_changes(request, probe), media_type="text/event-stream", headers=_HEADERS)


async def experiment_events(request: Request) -> Response:
    """``GET /api/experiments/<id>/events``: an event when the experiment changed."""
    exp = await run_in_threadpool(_experiment, request)

    def probe() -> tuple[Any, Any]:
        exp.refresh()
        with exp.lock:
            version = exp.version()
            data = {"cursor": exp.tail.seq, "state": exp.manifest.get("state", "unknown"),
                    "live": exp.live, "trials": len(exp.tail.trials)}
        return version, data

    return _stream(request, probe)


async def project_events(request: Request) -> Response:
    """``GET /api/events``: an event when an experiment appeared or changed."""
    project = request.app.state.project

    def probe() -> tuple[Any, Any]:
        versions = {}
        for exp in project.experiments():
            versions[exp.id] = ".".join(map(str, exp.version()))
        return versions, {"experiments": versions}

    return _stream(request, probe)


def push_routes() -> list[Route]:
    """The event streams' routes."""
    return [
        Route("/api/events", project_events),
        Route("/api/experiments/{exp}/events", experiment_events),
    ]
