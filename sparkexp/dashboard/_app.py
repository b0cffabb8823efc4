"""The dashboard's web application: pages, static assets, the API, errors as JSON.

Built on Starlette (an ASGI toolkit, small and well kept) and served by uvicorn. Every page is
the same HTML shell; ``dashboard.js`` reads the address and draws the experiments list, one
experiment or a comparison from the API. The charts are the HTML report's own code
(``sparkexp/report/charts.js``) and the vendored uPlot, served from the package: nothing is
fetched from the network.

Example:
    >>> import tempfile
    >>> app = build_app(tempfile.mkdtemp(), token="secret")
    >>> sorted(r.path for r in app.routes)[:2]
    ['/', '/api/actions']
"""

from __future__ import annotations

import html
import sys
import threading
import traceback
from functools import cache
from importlib import resources

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sparkexp.dashboard._api import Actions, api_routes, json_response
from sparkexp.dashboard._auth import TokenAuth
from sparkexp.dashboard._push import push_routes
from sparkexp.dashboard._state import Project

__all__ = ["build_app", "STATIC_FILES", "CSP"]

#: name served under /static/ -> (package, file)
STATIC_FILES = {
    "dashboard.js": ("sparkexp.dashboard.static", "dashboard.js"),
    "dashboard.css": ("sparkexp.dashboard.static", "dashboard.css"),
    "charts.js": ("sparkexp.report", "charts.js"),
    "charts.css": ("sparkexp.report", "charts.css"),
    "uPlot.iife.min.js": ("sparkexp.report.vendor", "uPlot.iife.min.js"),
    "uPlot.min.css": ("sparkexp.report.vendor", "uPlot.min.css"),
}
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@cache
def _asset(name: str) -> bytes:
    package, file = STATIC_FILES[name]
    return resources.files(package).joinpath(file).read_bytes()


def _static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC_FILES:
        raise HTTPException(404, f"no static file {name[:60]!r}")
    return Response(_asset(name), media_type=_TYPES[name[name.rindex("."):]],
                    headers={"cache-control": "no-cache", "x-content-type-options": "nosniff"})


def _page(request: Request) -> Response:
    exp_id = request.path_params.get("exp")
    if exp_id is not None and request.app.state.project.get(exp_id) is None:
        raise HTTPException(404, f"no experiment {exp_id[:80]!r} under this project root")
    token = request.app.state.token or ""
    from sparkexp import __version__

    page = _shell().replace("@@TOKEN@@", html.escape(token)).replace("@@VERSION@@", html.escape(__version__))
    return Response(page, media_type="text/html; charset=utf-8", headers={
        "content-security-policy": CSP, "cache-control": "no-store", "x-frame-options": "DENY",
        "referrer-policy": "no-referrer", "x-content-type-options": "nosniff"})


@cache
def _shell() -> str:
    return resources.files("sparkexp.dashboard.static").joinpath("index.html").read_text(encoding="utf-8")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return json_response({"error": exc.detail, "status": exc.status_code}, exc.status_code)


async def _server_error(request: Request, exc: Exception) -> Response:
    # the traceback goes to the server's stderr, never to the client
    print(f"sparkexp serve: error answering {request.method} {request.url.path}:", file=sys.stderr)
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    return json_response({"error": f"internal error ({type(exc).__name__}); see the server's log",
                          "status": 500}, 500)


def build_app(root: str, *, token: str | None, loopback: bool = True,
              master: str | None = None) -> Starlette:
    """The ASGI application over project ``root`` (``token=None``: no token, loopback only)."""
    routes = [
        Route("/", _page),
        Route("/experiments/{exp}", _page),
        Route("/compare", _page),
        Route("/static/{name}", _static),
        *api_routes(),
        *push_routes(),
    ]
    app = Starlette(routes=routes,
                    middleware=[Middleware(TokenAuth, token=token, loopback=loopback)],  # type: ignore[arg-type]
                    exception_handlers={HTTPException: _http_error, Exception: _server_error})
    app.state.project = Project(root)
    app.state.token = token
    app.state.actions = Actions(master)
    app.state.stopping = threading.Event()  # set on stop: event streams end at once
    return app
