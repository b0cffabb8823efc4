"""The dashboard's REST API (JSON), the pages' only data source.

Shaped after Valohai's: list experiments (``/api/experiments``), an experiment's trials filtered
by status (``/api/experiments/<id>/trials?status=error``), one trial's metadata stream (every
reported metric with its ``_time``), its logs, and the actions (``POST .../kill``,
``POST .../retry``). Ids are checked against what the project holds, so no request reads
outside ``<root>/Experiments``; bad input gets a 4xx with a JSON body naming what is accepted.

Example::

    $ curl -H "Authorization: Token $TOKEN" 'http://127.0.0.1:8765/api/experiments?state=running'
    {"experiments": [{"id": "mnist_3", "state": "running", "trials": 40, ...}]}
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sparkexp.dashboard._state import TRIAL_ID, ExperimentState, Project, trial_record
from sparkexp.store import json_safe
from sparkexp.trial import STATUSES, Trial

__all__ = ["api_routes", "json_response", "Actions"]

_LOG_STREAMS = ("stdout", "stderr")
_LOG_TAIL = 64 * 1024
_STATUS_GROUPS = {"failed": ("error", "timeout"), "finished": ("complete", "error", "stopped", "timeout")}


def json_response(data: Any, status: int = 200) -> Response:
    """Strict JSON (non-finite numbers as strings), never cached."""
    try:
        body = json.dumps(data, allow_nan=False, separators=(",", ":"))
    except (ValueError, TypeError):
        body = json.dumps(json_safe(data), allow_nan=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json",
                    headers={"cache-control": "no-store"})


def _raw_json(text: str) -> Response:
    return Response(text, media_type="application/json", headers={"cache-control": "no-store"})


def _bad(message: str, status: int = 400) -> HTTPException:
    return HTTPException(status_code=status, detail=message)


def _int_param(request: Request, name: str, default: int, *, minimum: int = 0) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad(f"query parameter '{name}' must be a whole number, got {raw[:40]!r}") from None
    if value < minimum:
        raise _bad(f"query parameter '{name}' must be >= {minimum}, got {value}")
    return value


def _statuses(request: Request) -> frozenset[str] | None:
    raw = request.query_params.get("status")
    if not raw:
        return None
    wanted: set[str] = set()
    for part in raw.split(","):
        part = part.strip()
        if part in _STATUS_GROUPS:
            wanted.update(_STATUS_GROUPS[part])
        elif part in STATUSES:
            wanted.add(part)
        else:
            accepted = ", ".join((*STATUSES, *_STATUS_GROUPS))
            raise _bad(f"unknown status {part[:40]!r}: use one or more of {accepted} (comma-separated)")
    return frozenset(wanted)


def _project(request: Request) -> Project:
    project: Project = request.app.state.project
    return project


def _experiment(request: Request) -> ExperimentState:
    exp_id = request.path_params["exp"]
    state = _project(request).get(exp_id)
    if state is None:
        raise _bad(f"no experiment {exp_id[:80]!r} under this project root "
                   "(ids are the names /api/experiments lists)", 404)
    return state


def _trial(request: Request) -> tuple[ExperimentState, Trial]:
    state = _experiment(request)
    tid = request.path_params["trial"]
    trial = state.tail.trials.get(tid) if TRIAL_ID.fullmatch(tid) else None
    if trial is None:
        raise _bad(f"experiment {state.id!r} has no trial {tid[:40]!r} (ids look like trial_00042)", 404)
    return state, trial


# -- experiments ------------------------------------------------------------------------------
def list_experiments(request: Request) -> Response:
    """``GET /api/experiments[?state=running][&q=text]``: every experiment's summary row."""
    state_filter = request.query_params.get("state")
    query = (request.query_params.get("q") or "").strip().lower()
    rows = []
    for exp in _project(request).experiments():
        row = exp.summary()
        if state_filter and row["state"] != state_filter:
            continue
        if query and query not in " ".join(str(row.get(k) or "") for k in ("id", "name", "strategy", "function", "state")).lower():
            continue
        rows.append(row)
    return json_response({"root": _project(request).root, "experiments": rows})


def get_experiment(request: Request) -> Response:
    """``GET /api/experiments/<id>``: the summary and the recorded settings."""
    exp = _experiment(request)
    return json_response({**exp.summary(), "settings": exp.manifest})


def list_trials(request: Request) -> Response:
    """``GET /api/experiments/<id>/trials[?status=error,timeout][&since=<cursor>]``."""
    exp = _experiment(request)
    statuses = _statuses(request)
    since = _int_param(request, "since", 0)
    cursor, texts = exp.trials_json(statuses, since)
    head = json.dumps({"experiment": exp.id, "cursor": cursor, "count": len(texts)})
    return _raw_json(head[:-1] + ',"trials":[' + ",".join(texts) + "]}")


def view(request: Request) -> Response:
    """``GET /api/experiments/<id>/view[?since=<cursor>&spec=<key>]``: what the charts draw."""
    exp = _experiment(request)
    since = _int_param(request, "since", 0)
    return _raw_json(exp.view(since, request.query_params.get("spec")))


def get_trial(request: Request) -> Response:
    """``GET /api/experiments/<id>/trials/<trial>``: the whole record, with its reports."""
    exp, trial = _trial(request)
    data = trial_record(trial, history=True)
    data["experiment"] = exp.id
    data["logs"] = [s for s in _LOG_STREAMS
                    if exp.store.fs.exists(exp.store.fs.join(exp.store.trial_dir(trial.id), f"{s}.log"))]
    return json_response(data)


def trial_metadata(request: Request) -> Response:
    """``GET /api/experiments/<id>/trials/<trial>/metadata[?since=<n>]``: the reports from
    number ``n`` on, each ``{"step": ..., "_time": ..., <metric>: ...}``."""
    _exp, trial = _trial(request)
    since = _int_param(request, "since", 0)
    history = trial.history[since:]
    return json_response({"trial": trial.id, "status": trial.status, "next": since + len(history),
                          "metadata": history})


def trial_logs(request: Request) -> Response:
    """``GET /api/experiments/<id>/trials/<trial>/logs?stream=stdout[&offset=<bytes>]``: the
    log from ``offset`` on (to follow a running trial), or its last 64 KiB without one."""
    exp, trial = _trial(request)
    stream = request.query_params.get("stream", "stdout")
    if stream not in _LOG_STREAMS:
        raise _bad(f"unknown log stream {stream[:40]!r}: use stdout or stderr")
    offset = _int_param(request, "offset", -1, minimum=-1)
    fs = exp.store.fs
    path = fs.join(exp.store.trial_dir(trial.id), f"{stream}.log")
    try:
        data = fs.read_from(path, max(offset, 0))
    except FileNotFoundError:
        data = b""
    start = max(offset, 0)
    truncated = False
    if offset < 0 and len(data) > _LOG_TAIL:
        cut = len(data) - _LOG_TAIL
        data, start, truncated = data[cut:], cut, True
    return json_response({"trial": trial.id, "stream": stream, "offset": start,
                          "next": start + len(data), "truncated": truncated,
                          "running": trial.status == "running",
                          "text": data.decode("utf-8", errors="replace")})


# -- actions ----------------------------------------------------------------------------------
class Actions:
    """Retries started from the dashboard: ``sparkexp retry`` child processes, one log each.

    The logs live in a temporary directory made at the first retry and removed by
    :meth:`close` (the server's stop), so a server leaves nothing behind in ``$TMPDIR``.
    """

    def __init__(self, master: str | None) -> None:
        self.master = master
        self._lock = threading.Lock()
        self._items: list[dict[str, Any]] = []
        self._procs: dict[int, subprocess.Popen[bytes]] = {}
        self._logdir: str | None = None
        self._boards: dict[str, Any] = {}  # experiment id -> its TensorBoardServer

    def retry(self, exp: ExperimentState, *, failed: bool, stopped: bool) -> dict[str, Any]:
        with self._lock:
            for item in self._items:
                proc = self._procs[item["id"]]
                if item["experiment"] == exp.id and proc.poll() is None:
                    raise _bad(f"a retry of {exp.id!r} is already running (action {item['id']})", 409)
            action_id = len(self._items) + 1
            argv = [sys.executable, "-m", "sparkexp", "retry", exp.path]
            argv += ["--failed"] if failed else []
            argv += ["--stopped"] if stopped else []
            master = self.master or exp.manifest.get("master")
            if master:
                argv += ["--master", str(master)]
            if self._logdir is None:
                self._logdir = tempfile.mkdtemp(prefix="sparkexp-dashboard-")
            log = os.path.join(self._logdir, f"action_{action_id}.log")
            with open(log, "wb") as out:
                proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
            item = {"id": action_id, "kind": "retry", "experiment": exp.id, "pid": proc.pid,
                    "started": time.time(), "argv": argv, "log": log}
            self._items.append(item)
            self._procs[action_id] = proc
            return self._status(item)

    def _status(self, item: dict[str, Any]) -> dict[str, Any]:
        code = self._procs[item["id"]].poll()
        out = {k: v for k, v in item.items() if k != "log"}
        out.update(running=code is None, returncode=code)
        if code is not None:
            try:
                with open(item["log"], "rb") as f:
                    out["output"] = f.read()[-4000:].decode("utf-8", errors="replace")
            except FileNotFoundError:  # removed by close()
                out["output"] = ""
        return out

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._status(item) for item in self._items]

    def tensorboard(self, exp: ExperimentState) -> str:
        """The URL of a TensorBoard over the experiment (one run per trial), started on first
        use on 127.0.0.1 (TensorBoard has no token of its own) and kept while the server runs."""
        from sparkexp.tensorboard import TensorBoardError, start

        with self._lock:
            board = self._boards.get(exp.id)
            if board is None or not board.running:
                try:
                    board = start(exp.path, host="127.0.0.1")
                except TensorBoardError as exc:
                    raise _bad(str(exc).splitlines()[0], 503) from None
                self._boards[exp.id] = board
            return str(board.url)

    def close(self) -> None:
        """Stop the TensorBoards started here; wait briefly for running retries (they record
        into the experiment and then end; one still running writes on into its log file, which
        is gone from the directory) and remove the retries' logs."""
        for board in self._boards.values():
            board.stop()
        for proc in self._procs.values():
            if proc.poll() is None:
                try:
                    proc.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass
        with self._lock:
            if self._logdir is not None:
                shutil.rmtree(self._logdir, ignore_errors=True)
                self._logdir = None


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise _bad("the request body must be a JSON object, e.g. {\"failed\": true}") from None
    if not isinstance(body, dict):
        raise _bad("the request body must be a JSON object, e.g. {\"failed\": true}")
    return body


def kill(request: Request) -> Response:
    """``POST /api/experiments/<id>/kill``: ask the experiment's driver to stop (as
    ``sparkexp kill`` does); 409 when no driver runs it."""
    from sparkexp import control

    exp = _experiment(request)
    if exp.store.read_control() is None:
        raise _bad(f"no driver is running {exp.id!r} (state {exp.manifest.get('state')!r})", 409)
    stopped = control.kill(exp.path, timeout=15.0)
    exp.refresh(force=True)
    return json_response({"experiment": exp.id, "stopped": stopped,
                          "state": exp.manifest.get("state")}, 200 if stopped else 504)


async def retry(request: Request) -> Response:
    """``POST /api/experiments/<id>/retry`` with ``{"failed": true, "stopped": false}``: run
    ``sparkexp retry`` on it in a child process; 202 with the action (``GET /api/actions``)."""
    from starlette.concurrency import run_in_threadpool

    exp = await run_in_threadpool(_experiment, request)
    body = await _json_body(request)
    failed, stopped = body.get("failed", not body.get("stopped", False)), body.get("stopped", False)
    if not isinstance(failed, bool) or not isinstance(stopped, bool) or not (failed or stopped):
        raise _bad("'failed' and 'stopped' must be true or false, and at least one true")
    if exp.manifest.get("state") == "running" and exp.live:
        raise _bad(f"{exp.id!r} is still running; retry it once it ended", 409)
    wanted = ({"error", "timeout"} if failed else set()) | ({"stopped"} if stopped else set())
    if not any(t.status in wanted for t in exp.tail.trials.values()):
        raise _bad(f"{exp.id!r} has no {' or '.join(sorted(wanted))} trials to retry", 409)
    actions: Actions = request.app.state.actions
    return json_response(actions.retry(exp, failed=failed, stopped=stopped), 202)


def tensorboard(request: Request) -> Response:
    """``POST /api/experiments/<id>/tensorboard``: start (once) a TensorBoard over the
    experiment on 127.0.0.1 and return its ``url``; each trial is the run named by its id."""
    exp = _experiment(request)
    actions: Actions = request.app.state.actions
    return json_response({"experiment": exp.id, "url": actions.tensorboard(exp)})


def list_actions(request: Request) -> Response:
    """``GET /api/actions``: the retries started from this server, running or ended."""
    actions: Actions = request.app.state.actions
    return json_response({"actions": actions.list()})


def api_routes() -> list[Route]:
    """The API's routes (mounted at ``/api``)."""
    return [
        Route("/api/experiments", list_experiments),
        Route("/api/experiments/{exp}", get_experiment),
        Route("/api/experiments/{exp}/trials", list_trials),
        Route("/api/experiments/{exp}/view", view),
        Route("/api/experiments/{exp}/trials/{trial}", get_trial),
        Route("/api/experiments/{exp}/trials/{trial}/metadata", trial_metadata),
        Route("/api/experiments/{exp}/trials/{trial}/logs", trial_logs),
        Route("/api/experiments/{exp}/kill", kill, methods=["POST"]),
        Route("/api/experiments/{exp}/retry", retry, methods=["POST"]),
        Route("/api/experiments/{exp}/tensorboard", tensorboard, methods=["POST"]),
        Route("/api/actions", list_actions),
    ]

