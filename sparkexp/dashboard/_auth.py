"""Who may talk to the dashboard: a token, as Jupyter does it, and a Host check.

- Every request carries the server's token: ``Authorization: Token <token>``, or the cookie the
  server sets when the printed URL (``...?token=<token>``) is opened. The URL's token is then
  removed from the address bar by a redirect.
- Actions (``POST``) need the ``Authorization`` header: the cookie alone is not enough, so
  another site cannot make a logged-in browser post to the dashboard (CSRF). The page reads the
  token from its own ``<meta>`` tag, which only an authenticated request gets.
- On a loopback address the ``Host`` header must name a loopback host (no DNS rebinding).
- Without a token (``token=None``) the server only binds loopback addresses.

Example:
    >>> token_ok("abc", "Token abc", None)
    True
    >>> token_ok("abc", None, "wrong")
    False
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

__all__ = ["TokenAuth", "token_ok", "COOKIE", "LOOPBACK_HOSTS"]

COOKIE = "sparkexp-dashboard-token"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _same(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def token_ok(token: str, authorization: str | None, cookie: str | None) -> bool:
    """True when the ``Authorization`` header (``Token <t>``) or the cookie carries ``token``."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() in ("token", "bearer") and _same(token, value.strip()):
            return True
    return _same(token, cookie)


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header.split("]", 1)[0] + "]"
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


async def _json_error(send: Send, status: int, message: str,
                      headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": message, "status": status}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class TokenAuth:
    """ASGI middleware: refuse requests without the token (401) or with a foreign Host (403)."""

    def __init__(self, app: ASGIApp, *, token: str | None, loopback: bool) -> None:
        self.app = app
        self.token = token
        self.loopback = loopback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.loopback and _host_name(headers.get("host", "")).lower() not in LOOPBACK_HOSTS:
            await _json_error(send, 403, "this dashboard answers only requests addressed to "
                                         "127.0.0.1 or localhost")
            return
        if self.token is None:
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = dict(query).get("token")
        if given is not None and _same(self.token, given) and scope["method"] == "GET":
            if scope["path"].startswith("/api/"):
                await self.app(scope, receive, send)  # curl-friendly: the token in the URL
                return
            # the printed URL: set the cookie, then drop the token from the address bar
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            location = scope["path"] + ("?" + rest if rest else "")
            cookie = f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
            await send({"type": "http.response.start", "status": 303, "headers": [
                (b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode("latin-1")),
                (b"content-length", b"0"), (b"cache-control", b"no-store")]})
            await send({"type": "http.response.body", "body": b""})
            return
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is just no cookie
            jar = SimpleCookie()
        cookie_value = jar[COOKIE].value if COOKIE in jar else None
        authorization = headers.get("authorization")
        if scope["method"] not in ("GET", "HEAD"):
            if not token_ok(self.token, authorization, None):
                await _json_error(send, 403 if cookie_value else 401,
                                  "actions need the header 'Authorization: Token <token>'")
                return
        elif not token_ok(self.token, authorization, cookie_value):
            await _json_error(send, 401, "this dashboard needs its token: open the URL "
                                         "'sparkexp serve' printed, or send 'Authorization: Token <token>'",
                              [(b"www-authenticate", b"Token")])
            return
        await self.app(scope, receive, send)
