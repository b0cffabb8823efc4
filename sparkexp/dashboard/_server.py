"""Starting and stopping the dashboard: :func:`serve` from Python, ``sparkexp serve`` from a shell.

uvicorn runs the application in a background thread of this process on a socket bound here
(port 0 picks a free port, with no probe-then-bind race), so :func:`serve` returns once the
server accepts connections, with the URL that carries the token.

Example:
    >>> board = serve("sparkexp-project")          # doctest: +SKIP
    >>> board.url                                  # doctest: +SKIP
    'http://127.0.0.1:43117/?token=3f9c...'
    >>> board.stop()                               # doctest: +SKIP
"""

from __future__ import annotations

import html
import ipaddress
import secrets
import socket
import threading
import time
from types import TracebackType
from typing import Any

from sparkexp.errors import ConfigError

__all__ = ["DashboardServer", "serve", "is_loopback"]


def is_loopback(host: str) -> bool:
    """True for ``127.0.0.1``, ``::1``, ``localhost`` and the rest of 127.0.0.0/8.

    >>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0"), is_loopback("localhost")
    (True, False, True)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class DashboardServer:
    """A running dashboard; stop it with :meth:`stop` or a ``with`` block. In a notebook it
    shows as a link.

    Attributes:
        url: The address to open, with the token (``http://127.0.0.1:43117/?token=...``).
        base_url: The address without the token.
        token: The token requests must carry (None when started with ``token=None``).
        host, port: Where it listens.
        root: The project root it serves.
    """

    def __init__(self, server: Any, thread: threading.Thread, sock: socket.socket, *, host: str,
                 port: int, token: str | None, root: str, app: Any) -> None:
        self._server = server
        self._thread = thread
        self._sock = sock
        self._app = app
        self.host, self.port, self.token, self.root = host, port, token, root
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{port}/"
        self.url = self.base_url + (f"?token={token}" if token else "")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving (open connections are closed) and wait for the server thread."""
        self._app.state.stopping.set()  # event streams end, so no open connection holds the exit
        self._server.should_exit = True
        self._thread.join(timeout)
        self._app.state.actions.close()
        self._sock.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self) -> None:
        """Block until the server stops (``sparkexp serve`` waits here for Ctrl-C)."""
        while self._thread.is_alive():
            self._thread.join(0.5)

    def __enter__(self) -> DashboardServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"DashboardServer(url={self.base_url!r}, root={self.root!r})"

    def _repr_html_(self) -> str:
        return (f'<a href="{html.escape(self.url)}" target="_blank" rel="noopener">sparkexp dashboard '
                f"for {html.escape(self.root)}</a> ({html.escape(self.base_url)})")


def _warm(project: Any) -> None:
    for exp in project.experiments():
        exp.view(0)


def serve(root: str | None = None, *, host: str = "127.0.0.1", port: int = 0,
          token: str | None | bool = True, master: str | None = None,
          timeout: float = 15.0) -> DashboardServer:
    """Serve the dashboard over a project root in a background thread.

    Args:
        root: Project root (local path, ``hdfs://``, ``webhdfs://``); default as for every
            command: ``$SPARKEXP_PROJECT_ROOT`` or ``./sparkexp-project``.
        host: Address to bind; ``127.0.0.1`` by default. Any other address needs a token.
        port: Port to bind; 0 (default) picks a free one.
        token: ``True`` (default) makes a random token; a string uses that one; ``None`` or
            ``False`` serves without one (loopback addresses only).
        master: Spark master for retries started from the page (default: the experiment's own).
        timeout: Seconds to wait for the server to accept connections.

    Returns:
        The running :class:`DashboardServer` (``.url``, ``.stop()``).

    Raises:
        ConfigError: a non-loopback address without a token, a bad port, an address that
            cannot be bound, or a missing ``sparkexp[dashboard]`` extra.
    """
    try:
        import uvicorn
    except ImportError as exc:
        raise ConfigError("the dashboard needs uvicorn and starlette: pip install 'sparkexp[dashboard]'") from exc
    from sparkexp.dashboard._app import build_app
    from sparkexp.project import resolve_root

    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"port must be a whole number from 0 to 65535, got {port!r}")
    loopback = is_loopback(host)
    if token is True:
        token = secrets.token_urlsafe(24)
    elif token is False or token == "":
        token = None
    if token is None and not loopback:
        raise ConfigError(f"serving on {host!r} (not a loopback address) needs a token; "
                          "drop --no-token, or bind 127.0.0.1")
    root = resolve_root(None, root)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(infos[0][4])
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.listen(128)
    bound_port = sock.getsockname()[1]
    app = build_app(root, token=token, loopback=loopback, master=master)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="sparkexp-dashboard", daemon=True)
    thread.start()
    # fold every journal once now, so the first page does not wait for it
    threading.Thread(target=_warm, args=(app.state.project,), name="sparkexp-dashboard-warm",
                     daemon=True).start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ConfigError(f"the dashboard did not start on {host}:{bound_port}")
        time.sleep(0.02)
    return DashboardServer(server, thread, sock, host=host, port=bound_port, token=token,
                           root=root, app=app)
