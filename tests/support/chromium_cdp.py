"""A small headless-Chromium driver over the DevTools protocol, standard library only.

Used by the browser tests: start Chromium once, open a page, collect console messages,
exceptions, log entries and network requests, evaluate JavaScript, take screenshots.

Example:
    >>> with Chromium.launch() as browser:             # doctest: +SKIP
    ...     page = browser.open("file:///tmp/report.html")
    ...     page.evaluate("document.title")
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from typing import IO, Any
from urllib.parse import urlparse

__all__ = ["Chromium", "Page", "find_chromium", "MISSING_MESSAGE"]

MISSING_MESSAGE = (
    "Chromium is not installed, so the HTML report cannot be checked in a real browser. "
    "Run `make browser` (apt-get installs Debian's chromium) or put `chromium` on PATH."
)


def find_chromium() -> str | None:
    """The Chromium executable on PATH, if any."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _WebSocket:
    """Just enough of RFC 6455 for a local DevTools connection (text frames, no extensions)."""

    def __init__(self, url: str, timeout: float) -> None:
        u = urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the websocket handshake")
            head += chunk
        status, _, rest = head.partition(b"\r\n\r\n")
        if b" 101 " not in status.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"DevTools refused the websocket: {status[:200]!r}")
        self.buf = rest

    def send(self, text: str) -> None:
        data = text.encode()
        header = bytearray([0x81])  # FIN + text
        n = len(data)
        if n < 126:
            header.append(0x80 | n)
        elif n < 65536:
            header.append(0x80 | 126)
            header += struct.pack(">H", n)
        else:
            header.append(0x80 | 127)
            header += struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(bytes(header) + mask + masked)

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionError("DevTools closed the websocket")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self) -> str:
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the websocket")
            if opcode == 0x9:  # ping
                continue
            message += payload
            if b0 & 0x80:
                return message.decode()

    def close(self) -> None:
        self.sock.close()


class Page:
    """One browser tab with the Runtime, Log, Page and Network domains enabled."""

    def __init__(self, ws_url: str, timeout: float) -> None:
        self.ws = _WebSocket(ws_url, timeout)
        self.timeout = timeout
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a DevTools command and return its result (events seen meanwhile are kept)."""
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method} failed: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited if it is a promise)."""
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"JavaScript error in {expression[:80]!r}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def wait_event(self, method: str, since: int = 0) -> dict[str, Any]:
        """The first ``method`` event at position ``since`` or later, reading until it arrives."""
        deadline = time.monotonic() + self.timeout
        while True:
            for e in self.events[since:]:
                if e["method"] == method:
                    return e
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} event after {self.timeout} s")
            since = len(self.events)
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)

    def goto(self, url: str, ready: str = "true") -> float:
        """Navigate, wait for the load event and then until ``ready`` is truthy; return seconds."""
        start = time.monotonic()
        mark = len(self.events)
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired", mark)
        probe = f"(function(){{try{{return !!({ready});}}catch(e){{return false;}}}})()"
        while time.monotonic() < start + self.timeout:
            if self.evaluate(probe):
                return time.monotonic() - start
            time.sleep(0.05)
        raise TimeoutError(f"{url} was not ready ({ready}) after {self.timeout} s")

    def click(self, selector: str) -> None:
        """A real mouse click at the centre of the element, as a person would do it."""
        x, y = self.evaluate(
            f"(function(){{var e=document.querySelector({json.dumps(selector)});e.scrollIntoView({{block:'center'}});"
            "var r=e.getBoundingClientRect();return [r.left+r.width/2, r.top+r.height/2];})()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def wait_for(self, expression: str, timeout: float | None = None) -> Any:
        """Poll a JavaScript expression until it is truthy; return its value."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = self.evaluate(f"(function(){{try{{return ({expression});}}catch(e){{return null;}}}})()")
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression!r} still false after {timeout or self.timeout} s")
            time.sleep(0.05)

    def problems(self) -> list[str]:
        """Console errors/warnings, uncaught exceptions and error log entries seen so far."""
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append(f"exception: {d.get('exception', {}).get('description') or d.get('text')}")
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                out.append(f"console.{p['type']}: " + " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", [])))
            elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                out.append(f"log: {p['entry'].get('text')} ({p['entry'].get('url', '')})")
        return out

    def requests(self) -> list[str]:
        """URLs of every network request the page made."""
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def screenshot(self, path: str, width: int = 1280) -> str:
        """A full-page PNG of the current page."""
        height = int(self.evaluate("Math.ceil(document.documentElement.scrollHeight)"))
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def close(self) -> None:
        self.ws.close()


class Chromium:
    """A headless Chromium process with remote debugging on a free local port."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, profile: str, timeout: float, log: IO[bytes]) -> None:
        self.proc, self.port, self.profile, self.timeout, self.log = proc, port, profile, timeout, log

    @classmethod
    def launch(cls, binary: str | None = None, timeout: float = 60.0) -> Chromium:
        """Start Chromium with a fresh profile and every background network feature off."""
        binary = binary or find_chromium()
        if not binary:
            raise FileNotFoundError(MISSING_MESSAGE)
        profile = tempfile.mkdtemp(prefix="sparkexp-chromium-")
        args = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-extensions", "--disable-dev-shm-usage", "--mute-audio",
            "--hide-scrollbars", "--window-size=1280,900", f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank",
        ]
        log = open(os.path.join(profile, "chromium.log"), "wb")  # noqa: SIM115 - lives as long as the process
        proc = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                with open(port_file) as f:
                    port = int(f.readline().strip())
                return cls(proc, port, profile, timeout, log)
            except (FileNotFoundError, ValueError):
                time.sleep(0.05)
        proc.kill()
        proc.wait()
        log.close()
        with open(os.path.join(profile, "chromium.log"), "rb") as f:
            tail = f.read()[-2000:].decode(errors="replace")
        raise RuntimeError(f"Chromium did not start (exit {proc.returncode}); its log ends:\n{tail}")

    def _http(self, path: str, method: str = "GET") -> Any:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            return json.loads(resp.read())

    def new_page(self) -> Page:
        """A fresh tab (its events are only this page's)."""
        target = self._http("/json/new?about:blank", method="PUT")
        page = Page(target["webSocketDebuggerUrl"], self.timeout)
        page.target_id = target["id"]  # type: ignore[attr-defined]
        return page

    def close_page(self, page: Page) -> None:
        page.close()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/close/{page.target_id}", timeout=5).read()  # type: ignore[attr-defined]
        except OSError:
            pass

    def close(self) -> None:
        """Stop this Chromium process (only the one we started) and remove its profile."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        for _ in range(3):  # helper processes may still be writing into the profile briefly
            shutil.rmtree(self.profile, ignore_errors=True)
            if not os.path.exists(self.profile):
                break
            time.sleep(0.2)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
