"""A WebHDFS server for tests: a namenode and a datanode endpoint over a real directory.

It follows Hadoop's WebHDFS REST API (``hadoop-hdfs/WebHDFS.html``) for the operations
sparkexp uses, including the parts clients get wrong:

* ``CREATE`` (PUT), ``APPEND`` (POST) and ``OPEN`` (GET) are two-step: the namenode answers
  ``307 Temporary Redirect`` with a ``Location`` on the *datanode* port, and the data goes
  there (``CREATE`` answers ``201 Created``). The datanode refuses requests without the
  ``namenoderpcaddress`` the namenode puts in the redirect.
* ``MKDIRS``, ``RENAME``, ``DELETE`` answer ``{"boolean": ...}``; ``RENAME`` with
  ``renameoptions`` (``NONE``/``OVERWRITE``) runs ``rename2`` and answers an empty 200.
* ``GETFILESTATUS``, ``LISTSTATUS`` (a file lists itself with an empty ``pathSuffix``),
  ``GETHOMEDIRECTORY``.
* Errors are ``{"RemoteException": {"exception", "javaClassName", "message"}}`` with the
  status codes of Hadoop's ``ExceptionHandler`` (404 not found, 403 other IO and permission
  errors, 400 bad arguments, 401 authentication).
* Data is written to disk as it arrives, so a reader can see a file under construction, as on
  HDFS; one writer per file (a second gets ``AlreadyBeingCreatedException``).

Both endpoints bind 127.0.0.1 on ephemeral ports, serve from daemon threads and shut down on
:meth:`WebHdfsTestServer.stop` or after ``lifetime`` seconds, whichever comes first.

Example:
    >>> with WebHdfsTestServer() as server:           # doctest: +SKIP
    ...     server.uri("/Projects/demo")
    'webhdfs://127.0.0.1:41234/Projects/demo'
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlparse

__all__ = ["WebHdfsTestServer", "RemoteError"]

PREFIX = "/webhdfs/v1"

_JAVA_CLASS = {
    "FileNotFoundException": "java.io.FileNotFoundException",
    "FileAlreadyExistsException": "org.apache.hadoop.fs.FileAlreadyExistsException",
    "AccessControlException": "org.apache.hadoop.security.AccessControlException",
    "ParentNotDirectoryException": "org.apache.hadoop.fs.ParentNotDirectoryException",
    "PathIsNotEmptyDirectoryException": "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException",
    "AlreadyBeingCreatedException": "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException",
    "IllegalArgumentException": "java.lang.IllegalArgumentException",
    "UnsupportedOperationException": "java.lang.UnsupportedOperationException",
    "SecurityException": "java.lang.SecurityException",
    "StandbyException": "org.apache.hadoop.ipc.StandbyException",
    "IOException": "java.io.IOException",
}
# status codes as chosen by org.apache.hadoop.hdfs.web.resources.ExceptionHandler
_STATUS = {
    "FileNotFoundException": 404,
    "SecurityException": 401,
    "IllegalArgumentException": 400,
    "UnsupportedOperationException": 400,
}

_OPS = {
    "GET": {"OPEN", "GETFILESTATUS", "LISTSTATUS", "GETHOMEDIRECTORY"},
    "PUT": {"CREATE", "MKDIRS", "RENAME"},
    "POST": {"APPEND"},
    "DELETE": {"DELETE"},
}
_OP_CLASS = {"GET": "GetOpParam", "PUT": "PutOpParam", "POST": "PostOpParam", "DELETE": "DeleteOpParam"}


class RemoteError(Exception):
    """An error to send as a WebHDFS ``RemoteException``."""

    def __init__(self, exception: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.exception = exception
        self.message = message
        self.status = status or _STATUS.get(exception, 403 if exception in _JAVA_CLASS else 500)

    def body(self) -> bytes:
        return json.dumps(
            {
                "RemoteException": {
                    "exception": self.exception,
                    "javaClassName": _JAVA_CLASS.get(self.exception, "java.io.IOException"),
                    "message": self.message,
                }
            }
        ).encode()


@dataclass
class _Injected:
    op: str
    error: RemoteError
    times: int


class WebHdfsTestServer:
    """Namenode + datanode WebHDFS endpoints over ``root`` (a fresh temp dir by default).

    Args:
        root: Directory holding the namespace (``/a/b`` is ``root/a/b``).
        legacy_rename: Ignore ``renameoptions`` like a server without ``rename2``.
        token: If set, every namenode request must carry ``delegation=<token>`` (else 401).
        lifetime: Seconds after which the server stops by itself.

    Attributes:
        redirects: ``Counter`` of 307 replies sent by the namenode, by op.
        datanode_ops: ``Counter`` of requests served by the datanode, by op.
        calls: ``(method, op, path, user)`` of every namenode request, in order.
        datanode_calls: ``(op, path)`` of every datanode request, in order.
    """

    def __init__(
        self,
        root: str | None = None,
        *,
        legacy_rename: bool = False,
        token: str | None = None,
        lifetime: float = 120.0,
    ) -> None:
        self._own_root = root is None
        self.root = os.path.realpath(root or tempfile.mkdtemp(prefix="webhdfs-"))
        self.legacy_rename = legacy_rename
        self.token = token
        self.lifetime = lifetime
        self.redirects: Counter[str] = Counter()
        self.datanode_ops: Counter[str] = Counter()
        self.calls: list[tuple[str, str, str, str | None]] = []
        self.datanode_calls: list[tuple[str, str]] = []
        self._lock = threading.RLock()  # the "namenode" lock: metadata ops are atomic
        self._writing: set[str] = set()  # leases of files being written
        self._denied: list[str] = []
        self._injected: list[_Injected] = []
        self._servers: list[ThreadingHTTPServer] = []
        self._timer: threading.Timer | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> WebHdfsTestServer:
        """Bind both endpoints and serve them from daemon threads."""
        self.namenode = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self, namenode=True))
        self.datanode = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self, namenode=False))
        for srv in (self.namenode, self.datanode):
            srv.daemon_threads = True
            self._servers.append(srv)
            threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        """Stop serving (idempotent); the temp root is removed if the server made it."""
        if self._timer is not None:
            self._timer.cancel()
        servers, self._servers = self._servers, []
        for srv in servers:
            srv.shutdown()
            srv.server_close()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> WebHdfsTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self.namenode.server_address[1])

    @property
    def datanode_port(self) -> int:
        return int(self.datanode.server_address[1])

    @property
    def url(self) -> str:
        """The namenode HTTP endpoint (``http://127.0.0.1:PORT``)."""
        return f"http://127.0.0.1:{self.port}"

    def uri(self, path: str = "/") -> str:
        """``webhdfs://127.0.0.1:PORT<path>``."""
        return f"webhdfs://127.0.0.1:{self.port}{path}"

    def local(self, path: str) -> str:
        """The real file behind HDFS path ``path``."""
        norm = posixpath.normpath("/" + path.lstrip("/"))
        return os.path.join(self.root, norm.lstrip("/"))

    # -- fault injection ---------------------------------------------------------------------
    def deny(self, prefix: str) -> None:
        """Answer ``AccessControlException`` (403) for any path under ``prefix``."""
        self._denied.append(posixpath.normpath(prefix))

    def fail(self, op: str, exception: str, message: str, *, status: int | None = None, times: int = 1) -> None:
        """Answer the next ``times`` namenode requests for ``op`` with a RemoteException."""
        self._injected.append(_Injected(op.upper(), RemoteError(exception, message, status), times))

    def _take_injected(self, op: str) -> RemoteError | None:
        with self._lock:
            for inj in self._injected:
                if inj.op == op and inj.times > 0:
                    inj.times -= 1
                    return inj.error
        return None

    # -- namespace helpers -------------------------------------------------------------------
    def _check_path(self, path: str, user: str | None) -> None:
        for prefix in self._denied:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                raise RemoteError(
                    "AccessControlException",
                    f"Permission denied: user={user or 'dr.who'}, access=WRITE, inode=\"{path}\"",
                )

    def _check_parents(self, path: str) -> None:
        """ParentNotDirectoryException if a component above ``path`` is a file."""
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts)):
            prefix = "/" + "/".join(parts[:i])
            if os.path.isfile(self.local(prefix)):
                raise RemoteError("ParentNotDirectoryException", f"{prefix} (is not a directory)")

    def status(self, path: str, user: str | None, name: str = "") -> dict[str, Any]:
        local = self.local(path)
        st = os.stat(local)
        is_dir = os.path.isdir(local)
        return {
            "accessTime": 0 if is_dir else int(st.st_atime * 1000),
            "blockSize": 0 if is_dir else 134217728,
            "childrenNum": len(os.listdir(local)) if is_dir else 0,
            "fileId": st.st_ino,
            "group": "supergroup",
            "length": 0 if is_dir else st.st_size,
            "modificationTime": int(st.st_mtime * 1000),
            "owner": user or "dr.who",
            "pathSuffix": name,
            "permission": "755" if is_dir else "644",
            "replication": 0 if is_dir else 3,
            "storagePolicy": 0,
            "type": "DIRECTORY" if is_dir else "FILE",
        }


def _handler(server: WebHdfsTestServer, *, namenode: bool) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``server`` (no module state)."""

    class Handler(_Handler):
        pass

    Handler.server_state = server
    Handler.is_namenode = namenode
    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 15  # seconds a silent client may hold a connection
    server_state: WebHdfsTestServer
    is_namenode: bool

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # -- HTTP plumbing -----------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _body_chunks(self) -> Any:
        """The request body as chunks (Content-Length or chunked transfer encoding)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                line = self.rfile.readline(1024).strip()
                size = int(line.split(b";")[0] or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024).strip():
                        pass  # trailers
                    return
                remaining = size
                while remaining:
                    chunk = self.rfile.read(min(remaining, 1 << 16))
                    if not chunk:
                        raise ConnectionError("client closed mid-chunk")
                    remaining -= len(chunk)
                    yield chunk
                self.rfile.readline(16)
        else:
            remaining = int(self.headers.get("Content-Length") or 0)
            while remaining:
                chunk = self.rfile.read(min(remaining, 1 << 16))
                if not chunk:
                    raise ConnectionError("client closed mid-body")
                remaining -= len(chunk)
                yield chunk

    def _drain(self) -> None:
        for _ in self._body_chunks():
            pass

    def _send(self, status: int, body: bytes = b"", ctype: str = "application/json", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _json(self, value: Any) -> None:
        self._send(200, json.dumps(value).encode())

    # -- dispatch ----------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        s = self.server_state
        url = urlparse(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        op = params.get("op", "").upper()
        drained = False
        try:
            if not url.path.startswith(PREFIX):
                raise RemoteError("IllegalArgumentException", f"Invalid path {url.path!r}: not under {PREFIX}")
            path = posixpath.normpath("/" + unquote(url.path[len(PREFIX):]).lstrip("/"))
            if op not in _OPS.get(method, set()):
                raise RemoteError(
                    "IllegalArgumentException",
                    f'Invalid value for webhdfs parameter "op": No enum constant '
                    f"org.apache.hadoop.hdfs.web.resources.{_OP_CLASS.get(method, 'GetOpParam')}.Op.{op}",
                )
            user = params.get("user.name")
            if self.is_namenode:
                with s._lock:
                    s.calls.append((method, op, path, user))
                if s.token is not None and params.get("delegation") != s.token:
                    raise RemoteError("SecurityException", "Failed to obtain user group information: invalid delegation token")
                injected = s._take_injected(op)
                if injected is not None:
                    raise injected
                s._check_path(path, user)
                if op in ("RENAME",) and params.get("destination"):
                    s._check_path(posixpath.normpath(params["destination"]), user)
                getattr(self, f"_nn_{op.lower()}")(path, params, user)
            else:
                if "namenoderpcaddress" not in params:
                    raise RemoteError("IllegalArgumentException", "Required param namenoderpcaddress for op: " + op + " is null")
                with s._lock:
                    s.datanode_ops[op] += 1
                    s.datanode_calls.append((op, path))
                drained = True  # datanode handlers consume the body themselves
                getattr(self, f"_dn_{op.lower()}")(path, params, user)
        except RemoteError as err:
            if not drained and method in ("PUT", "POST"):
                self._drain()
            elif drained:
                self.close_connection = True  # the body may be half read
            self._send(err.status, err.body())
        except (ConnectionError, OSError) as err:
            self.close_connection = True
            try:
                self._send(500, RemoteError("IOException", str(err), 500).body())
            except OSError:
                pass

    # -- namenode ops ------------------------------------------------------------------------
    def _redirect(self, op: str, path: str, params: dict[str, str], status: int = 307) -> None:
        s = self.server_state
        query = dict(params)
        query["namenoderpcaddress"] = f"127.0.0.1:{s.port}"
        location = f"http://127.0.0.1:{s.datanode_port}{PREFIX}{quote(path)}?{urlencode(query)}"
        with s._lock:
            s.redirects[op] += 1
        self._send(status, b"", "application/octet-stream", {"Location": location})

    def _nn_create(self, path: str, params: dict[str, str], user: str | None) -> None:
        self._drain()  # a client must not send data before the redirect; ignore it if it did
        self._redirect("CREATE", path, params)

    def _nn_append(self, path: str, params: dict[str, str], user: str | None) -> None:
        self._drain()
        local = self.server_state.local(path)
        if not os.path.exists(local):
            raise RemoteError("FileNotFoundException", f"File does not exist: {path}")
        self._redirect("APPEND", path, params)

    def _nn_open(self, path: str, params: dict[str, str], user: str | None) -> None:
        local = self.server_state.local(path)
        if not os.path.exists(local):
            raise RemoteError("FileNotFoundException", f"File does not exist: {path}")
        if os.path.isdir(local):
            raise RemoteError("FileNotFoundException", f"Path is not a file: {path}")
        self._redirect("OPEN", path, params)

    def _nn_getfilestatus(self, path: str, params: dict[str, str], user: str | None) -> None:
        s = self.server_state
        if not os.path.exists(s.local(path)):
            raise RemoteError("FileNotFoundException", f"File does not exist: {path}")
        self._json({"FileStatus": s.status(path, user)})

    def _nn_liststatus(self, path: str, params: dict[str, str], user: str | None) -> None:
        s = self.server_state
        local = s.local(path)
        if not os.path.exists(local):
            raise RemoteError("FileNotFoundException", f"File {path} does not exist.")
        if os.path.isfile(local):
            statuses = [s.status(path, user)]
        else:
            statuses = [
                s.status(posixpath.join(path, name), user, name) for name in sorted(os.listdir(local))
            ]
        self._json({"FileStatuses": {"FileStatus": statuses}})

    def _nn_gethomedirectory(self, path: str, params: dict[str, str], user: str | None) -> None:
        self._json({"Path": f"/user/{user or 'dr.who'}"})

    def _nn_mkdirs(self, path: str, params: dict[str, str], user: str | None) -> None:
        s = self.server_state
        self._drain()
        with s._lock:
            s._check_parents(path)
            local = s.local(path)
            if os.path.isfile(local):
                raise RemoteError("FileAlreadyExistsException", f"Path is not a directory: {path}")
            os.makedirs(local, exist_ok=True)
        self._json({"boolean": True})

    def _nn_delete(self, path: str, params: dict[str, str], user: str | None) -> None:
        s = self.server_state
        recursive = params.get("recursive", "false").lower() == "true"
        with s._lock:
            local = s.local(path)
            if path == "/" or not os.path.lexists(local):
                self._json({"boolean": False})
                return
            if os.path.isdir(local):
                if os.listdir(local) and not recursive:
                    raise RemoteError("PathIsNotEmptyDirectoryException", f"`{path} is non empty': Directory is not empty")
                shutil.rmtree(local)
            else:
                os.unlink(local)
        self._json({"boolean": True})

    def _nn_rename(self, path: str, params: dict[str, str], user: str | None) -> None:
        s = self.server_state
        self._drain()
        dst = params.get("destination")
        if not dst or not dst.startswith("/"):
            raise RemoteError("IllegalArgumentException", f"Invalid value for webhdfs parameter \"destination\": {dst!r} is not absolute")
        dst = posixpath.normpath(dst)
        options_text = "" if s.legacy_rename else params.get("renameoptions", "")
        options = {o.strip().upper() for o in options_text.split(",") if o.strip()}
        bad = options - {"NONE", "OVERWRITE", "TO_TRASH"}
        if bad:
            raise RemoteError("IllegalArgumentException", f"No enum constant org.apache.hadoop.fs.Options.Rename.{sorted(bad)[0]}")
        with s._lock:
            if options:
                self._rename2(path, dst, "OVERWRITE" in options)
                self._send(200, b"", "application/octet-stream")
            else:
                self._json({"boolean": self._rename_old(path, dst)})

    def _rename_old(self, src: str, dst: str) -> bool:
        """``ClientProtocol.rename``: False on failure, moves into an existing directory."""
        s = self.server_state
        lsrc = s.local(src)
        if src == "/" or not os.path.lexists(lsrc):
            return False
        if os.path.isdir(s.local(dst)):
            dst = posixpath.join(dst, posixpath.basename(src))
        ldst = s.local(dst)
        if os.path.lexists(ldst) or not os.path.isdir(os.path.dirname(ldst)):
            return False
        if dst == src or dst.startswith(src.rstrip("/") + "/"):
            return False
        os.rename(lsrc, ldst)
        return True

    def _rename2(self, src: str, dst: str, overwrite: bool) -> None:
        """``ClientProtocol.rename2``: raises on failure, replaces only with OVERWRITE."""
        s = self.server_state
        lsrc, ldst = s.local(src), s.local(dst)
        if not os.path.lexists(lsrc):
            raise RemoteError("FileNotFoundException", f"rename source {src} is not found.")
        if dst == src:
            raise RemoteError("FileAlreadyExistsException", f"The source {src} and destination {dst} are the same")
        if dst.startswith(src.rstrip("/") + "/"):
            raise RemoteError("IOException", f"Rename destination {dst} is a directory or file under source {src}")
        parent = posixpath.dirname(dst)
        s._check_parents(dst)
        if not os.path.isdir(s.local(parent)):
            raise RemoteError("FileNotFoundException", f"rename destination parent {parent} not found.")
        if os.path.lexists(ldst):
            if not overwrite:
                raise RemoteError("FileAlreadyExistsException", f"rename destination {dst} already exists.")
            src_dir, dst_dir = os.path.isdir(lsrc), os.path.isdir(ldst)
            if src_dir != dst_dir:
                kind = "directories" if src_dir else "files"
                raise RemoteError("IOException", f"Source {src} and destination {dst} must both be {kind}")
            if dst_dir:
                if os.listdir(ldst):
                    raise RemoteError("IOException", f"rename destination directory is not empty: {dst}")
                os.rmdir(ldst)
        os.replace(lsrc, ldst)

    # -- datanode ops ------------------------------------------------------------------------
    def _lease(self, path: str) -> None:
        s = self.server_state
        if path in s._writing:
            raise RemoteError(
                "AlreadyBeingCreatedException",
                f"Failed to APPEND_FILE {path}: lease is held by another client",
            )
        s._writing.add(path)

    def _write_body(self, path: str, mode: str) -> None:
        s = self.server_state
        try:
            with open(s.local(path), mode) as f:
                for chunk in self._body_chunks():
                    f.write(chunk)
                    f.flush()  # visible while under construction, as on HDFS
        finally:
            with s._lock:
                s._writing.discard(path)

    def _dn_create(self, path: str, params: dict[str, str], user: str | None) -> None:
        s = self.server_state
        overwrite = params.get("overwrite", "false").lower() == "true"
        with s._lock:
            local = s.local(path)
            if os.path.isdir(local):
                raise RemoteError("FileAlreadyExistsException", f"{path} already exists as a directory")
            if os.path.exists(local) and not overwrite:
                raise RemoteError("FileAlreadyExistsException", f"{path} for client 127.0.0.1 already exists")
            s._check_parents(path)
            self._lease(path)
            os.makedirs(os.path.dirname(local), exist_ok=True)
        self._write_body(path, "wb")
        self._send(201, b"", "application/octet-stream", {"Location": f"webhdfs://127.0.0.1:{s.port}{path}"})

    def _dn_append(self, path: str, params: dict[str, str], user: str | None) -> None:
        s = self.server_state
        with s._lock:
            local = s.local(path)
            if not os.path.isfile(local):
                raise RemoteError("FileNotFoundException", f"File does not exist: {path}")
            self._lease(path)
        self._write_body(path, "ab")
        self._send(200, b"", "application/octet-stream")

    def _dn_open(self, path: str, params: dict[str, str], user: str | None) -> None:
        s = self.server_state
        local = s.local(path)
        if not os.path.isfile(local):
            raise RemoteError("FileNotFoundException", f"File does not exist: {path}")
        try:
            offset = int(params.get("offset") or 0)
            length = int(params["length"]) if params.get("length") else None
        except ValueError as exc:
            raise RemoteError("IllegalArgumentException", f"Invalid offset/length: {exc}") from exc
        if offset < 0:
            raise RemoteError("IllegalArgumentException", f"Invalid value for webhdfs parameter \"offset\": {offset} < 0")
        with open(local, "rb") as f:
            f.seek(offset)
            data = f.read() if length is None else f.read(length)
        self._send(200, data, "application/octet-stream")
