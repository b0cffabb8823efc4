"""Who may use the dashboard: the token (header or the cookie from the printed URL), POST only
with the header, loopback by default with a Host check, and no token only on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from support.dashboard_server import REPO, DashboardProcess, http

from sparkexp.dashboard._auth import COOKIE


def test_the_first_line_printed_is_the_url_with_the_token(server):
    assert server.first_line.startswith("sparkexp dashboard for ")
    assert server.base.startswith("http://127.0.0.1:") and len(server.token) >= 32
    assert server.first_line.endswith("(Ctrl-C to stop)")


def test_requests_without_the_token_are_refused(server):
    for path in ("/", "/experiments/grid_1", "/api/experiments", "/api/experiments/grid_1/trials",
                 "/static/dashboard.js"):
        code, headers, body = http(server.base + path)
        assert code == 401, path
        assert json.loads(body)["status"] == 401 and headers["www-authenticate"] == "Token"
    code, _, _ = server.request("/api/experiments", token=False, headers={"Authorization": "Token wrong"})
    assert code == 401
    code, _, _ = http(server.base + "/api/experiments", headers={"Cookie": f"{COOKIE}=wrong"})
    assert code == 401
    code, _, _ = http(server.base + "/api/experiments?token=wrong")
    assert code == 401


def test_the_printed_url_sets_a_cookie_and_drops_the_token_from_the_address(server):
    code, headers, _ = http(server.url)
    assert code == 303 and headers["location"] == "/"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={server.token};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    jar = {"Cookie": f"{COOKIE}={server.token}"}
    code, headers, page = http(server.base + "/", headers=jar)
    assert code == 200 and b'name="sparkexp-token"' in page
    assert "script-src 'self'" in headers["content-security-policy"]
    code, _, body = http(server.base + "/api/experiments", headers=jar)
    assert code == 200 and "grid_1" in {e["id"] for e in json.loads(body)["experiments"]}
    # the header works on its own, and so does ?token= for API GETs (curl)
    assert server.request("/api/experiments")[0] == 200
    assert http(f"{server.base}/api/experiments?token={server.token}")[0] == 200


def test_actions_need_the_authorization_header_not_just_the_cookie(server):
    jar = {"Cookie": f"{COOKIE}={server.token}", "Content-Type": "application/json"}
    code, _, body = http(server.base + "/api/experiments/grid_1/kill", method="POST", headers=jar, body=b"")
    assert code == 403 and "Authorization: Token" in json.loads(body)["error"]
    code, _, _ = http(server.base + "/api/experiments/grid_1/retry", method="POST", headers=jar, body=b"{}")
    assert code == 403
    code, _, _ = http(server.base + "/api/experiments/grid_1/kill", method="POST", body=b"")
    assert code == 401
    code, _, _ = http(f"{server.base}/api/experiments/grid_1/kill?token={server.token}", method="POST", body=b"")
    assert code == 401
    # with the header the request reaches the action (no driver runs this finished experiment)
    code, _, body = server.request("/api/experiments/grid_1/kill", method="POST")
    assert code == 409


def test_a_foreign_host_header_is_refused_on_loopback(server):
    code, _, body = server.request("/api/experiments", headers={"Host": "evil.example:80"})
    assert code == 403 and "127.0.0.1 or localhost" in json.loads(body)["error"]
    port = server.base.rsplit(":", 1)[1]
    assert server.request("/api/experiments", headers={"Host": f"localhost:{port}"})[0] == 200


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (REPO, os.environ.get("PYTHONPATH")) if p))
    return subprocess.run([sys.executable, "-m", "sparkexp", "serve", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_no_token_only_on_loopback(project, tmp_path):
    out = _serve(project[0], "--host", "0.0.0.0", "--no-token")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        "sparkexp serve: error: serving on '0.0.0.0' (not a loopback address) needs a token; "
        "drop --no-token, or bind 127.0.0.1"]
    out = _serve(str(tmp_path / "missing"))
    assert out.returncode == 2 and "does not exist" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    with DashboardProcess.start(project[0], "--no-token") as open_server:
        assert "?token=" not in open_server.first_line
        assert http(open_server.base + "/api/experiments")[0] == 200


def _routable_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the interface
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_binding_every_address_needs_the_token_from_everywhere(project):
    with DashboardProcess.start(project[0], "--host", "0.0.0.0") as public:
        port = public.base.rsplit(":", 1)[1]
        targets = ["127.0.0.1"] + [a for a in [_routable_address()] if a]
        for host in targets:
            assert http(f"http://{host}:{port}/api/experiments")[0] == 401
            code, _, body = http(f"http://{host}:{port}/api/experiments",
                                 headers={"Authorization": f"Token {public.token}"})
            assert code == 200 and "grid_1" in {e["id"] for e in json.loads(body)["experiments"]}
