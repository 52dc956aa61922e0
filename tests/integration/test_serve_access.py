"""Attacks on `mentorpulse serve`: the real command, real HTTP on 127.0.0.1.

A dashboards folder holds public pages, two programs' restricted pages and digests, the
operator's digest, and planted symlinks; the users file has a manager of each program and an
operator. Every restricted file carries a marker, and no response an attacker gets may
contain one.
"""

from __future__ import annotations

import csv
import http.client
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from werkzeug.security import generate_password_hash

from dashboards.access import User, save_users

PASSWORD = "correct horse battery"
MARKERS = {
    "restricted/eng/at_risk.html": "SECRET-ENG-PAGE",
    "restricted/eng/comments.html": "SECRET-ENG-COMMENTS",
    "digest/eng/latest.html": "SECRET-ENG-DIGEST",
    "restricted/arts/at_risk.html": "SECRET-ARTS-PAGE",
    "digest/arts/latest.html": "SECRET-ARTS-DIGEST",
    "operator/digest.html": "SECRET-OPERATOR-DIGEST",
    "restricted/legacy.html": "SECRET-LEGACY",
}
OUTSIDE = "SECRET-OUTSIDE-THE-FOLDER"
ALL_SECRETS = (*MARKERS.values(), OUTSIDE)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Client:
    """An HTTP client keeping its cookies, sending paths exactly as given (no normalising)."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict | None = None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        head = dict(headers or {})
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            head["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=head)
        response = conn.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";")[0]
        conn.close()
        return response.status, dict(response.getheaders()), data

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post(self, path: str, form: dict, **kw):
        return self.request("POST", path, form=form, **kw)

    def login(self, name: str, password: str = PASSWORD) -> int:
        _, _, page = self.get("/login")
        status, _, _ = self.post(
            "/login", {"csrf_token": _csrf(page), "username": name, "password": password}
        )
        return status


def _csrf(page: bytes) -> str:
    return re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1).decode()


def _field(page: bytes, name: str) -> str:
    return (
        re.search(rf'name="{name}" type="hidden" value="([^"]+)"'.encode(), page).group(1).decode()
    )


@dataclass(frozen=True)
class Server:
    port: int
    data_dir: Path

    def client(self) -> Client:
        return Client(self.port)


def _plant(data_dir: Path) -> None:
    site = data_dir / "dashboards"
    (site / "index.html").parent.mkdir(parents=True)
    (site / "index.html").write_text("<h1>public home</h1>")
    (site / "overview.html").write_text("<h1>public overview</h1>")
    for path, marker in MARKERS.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(f"<p>{marker}</p>")
    (site / "restricted/eng/matches.json").write_text(json.dumps(["M-ENG-1", "M-ENG-2"]))
    (site / "restricted/arts/matches.json").write_text(json.dumps(["M-ARTS-1"]))
    (data_dir / "outside.txt").write_text(OUTSIDE)
    # Symlinks: a public name to a restricted page, eng's folder to arts' page, and out.
    (site / "leak.html").symlink_to(site / "restricted/arts/at_risk.html")
    (site / "outside.html").symlink_to(data_dir / "outside.txt")
    (site / "restricted/eng/arts.html").symlink_to(site / "restricted/arts/at_risk.html")
    (site / "restricted/eng/out.html").symlink_to(data_dir / "outside.txt")
    (site / "restricted/eng/up").symlink_to(data_dir)
    (site / ".hidden.html").write_text(OUTSIDE)
    users = {
        "ana": User("ana", generate_password_hash(PASSWORD), ("Eng",)),
        "bruno": User("bruno", generate_password_hash(PASSWORD), ("Arts",)),
        "olga": User("olga", generate_password_hash(PASSWORD), ("*",), operator=True),
    }
    save_users(data_dir / "restricted" / "users.toml", users)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("serve") / "data"
    data_dir.mkdir()
    _plant(data_dir)
    port = _free_port()
    env = {"MENTORPULSE_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    mentorpulse = Path(sys.executable).with_name("mentorpulse")
    process = subprocess.Popen(
        [str(mentorpulse), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.2)
        yield Server(port, data_dir)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _no_secret(data: bytes, allowed: tuple[str, ...] = ()) -> None:
    for secret in ALL_SECRETS:
        if secret not in allowed:
            assert secret.encode() not in data, secret


def test_public_pages_are_open_and_restricted_ones_need_a_login(server):
    client = server.client()
    status, headers, data = client.get("/")
    assert status == 200 and b"public home" in data
    assert client.get("/overview.html")[0] == 200
    for path in [*MARKERS, "restricted/eng/matches.json"]:
        status, headers, data = client.get(f"/{path}")
        assert status in (302, 401, 404), path
        _no_secret(data)
        if status == 302:
            assert headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    "path",
    [
        "/restricted/",
        "/restricted",
        "/digest/",
        "/operator/",
        "/restricted/eng/",
        "/../outside.txt",
        "/%2e%2e/outside.txt",
        "/restricted/eng/%2e%2e/arts/at_risk.html",
        "/restricted/eng/..%2farts/at_risk.html",
        "/restricted/eng/%2E%2E%2F%2E%2E%2Foutside.txt",
        "/restricted/eng/arts.html",
        "/restricted/eng/out.html",
        "/restricted/eng/up/outside.txt",
        "/restricted/eng/up/dashboards/restricted/arts/at_risk.html",
        "/leak.html",
        "/outside.html",
        "/.hidden.html",
        "/restricted/legacy.html",
        "/operator/digest.html",
        "/digest/arts/latest.html",
        "/restricted/arts/at_risk.html",
        "//etc/passwd",
        "/restricted/eng/..\\..\\outside.txt",
    ],
)
def test_no_traversal_listing_or_other_program_even_signed_in(server, path):
    client = server.client()
    assert client.login("ana") == 302
    status, _, data = client.get(path)
    assert status in (302, 400, 401, 404), (path, status)
    _no_secret(data)
    assert b"root:" not in data
    assert b"Index of" not in data and b"Directory listing" not in data


def test_a_manager_reads_only_their_program(server):
    ana, bruno, olga = server.client(), server.client(), server.client()
    assert ana.login("ana") == 302 and bruno.login("bruno") == 302 and olga.login("olga") == 302
    status, headers, data = ana.get("/restricted/eng/at_risk.html")
    assert status == 200 and b"SECRET-ENG-PAGE" in data
    assert headers["Cache-Control"] == "no-store"
    assert ana.get("/digest/eng/latest.html")[2].count(b"SECRET-ENG-DIGEST") == 1
    assert bruno.get("/restricted/eng/at_risk.html")[0] == 404
    assert bruno.get("/digest/eng/latest.html")[0] == 404
    assert b"SECRET-ARTS-PAGE" in bruno.get("/restricted/arts/at_risk.html")[2]
    # The operator's digest only for operators; an operator of all programs reads them all.
    assert ana.get("/operator/digest.html")[0] == 404
    assert b"SECRET-OPERATOR-DIGEST" in olga.get("/operator/digest.html")[2]
    assert olga.get("/restricted/arts/at_risk.html")[0] == 200


def test_sign_out_ends_the_session(server):
    client = server.client()
    assert client.login("ana") == 302
    assert client.get("/restricted/eng/at_risk.html")[0] == 200
    _, _, page = client.get("/logout")
    assert client.post("/logout", {"csrf_token": ""})[0] == 400  # a forged sign-out is refused
    assert client.post("/logout", {"csrf_token": _csrf(page)})[0] == 302
    assert client.get("/restricted/eng/at_risk.html")[0] == 302


def test_wrong_password_and_unknown_user_are_refused(server):
    client = server.client()
    assert client.login("ana", "wrong password!") == 401
    assert client.login("mallory") == 401
    assert client.get("/restricted/eng/at_risk.html")[0] == 302


def test_session_cookie_is_httponly_and_samesite(server):
    client = server.client()
    _, _, page = client.get("/login")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(
        "POST",
        "/login",
        body=urlencode({"csrf_token": _csrf(page), "username": "ana", "password": PASSWORD}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items()),
        },
    )
    response = conn.getresponse()
    cookies = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
    assert response.status == 302 and cookies
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # An open redirect after login is refused: `next` must be a path on this site.
    _, _, page = client.get("/login?next=//evil.example.org/x")
    assert b"evil.example.org" not in page


def _followup_form(client: Client, slug: str, match: str) -> tuple[int, dict]:
    status, _, page = client.get(f"/followup/{slug}/{match}")
    if status != 200:
        return status, {}
    return status, {
        "csrf_token": _csrf(page),
        "once": _field(page, "once"),
        "contacted_on": "2026-03-10",
        "channel": "email",
        "outcome": "reached",
        "note": "Spoke to both; meeting next week.",
    }


def _followups(server: Server) -> list[dict]:
    folder = server.data_dir / "landing" / "followups"
    rows = []
    for path in sorted(folder.glob("*.csv")) if folder.exists() else []:
        with path.open(newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def test_a_followup_is_written_once_and_a_replay_or_forgery_is_refused(server):
    ana = server.client()
    assert ana.login("ana") == 302
    before = len(_followups(server))
    status, form = _followup_form(ana, "eng", "M-ENG-1")
    assert status == 200
    # Forged: no CSRF token, a wrong one, or from a client without the session.
    assert ana.post("/followup/eng/M-ENG-1", {**form, "csrf_token": ""})[0] == 400
    assert ana.post("/followup/eng/M-ENG-1", {**form, "csrf_token": "x" * 40})[0] == 400
    stranger = server.client()
    assert stranger.post("/followup/eng/M-ENG-1", form)[0] in (400, 401)
    assert len(_followups(server)) == before
    # The real post is written once; the same post again is refused.
    assert ana.post("/followup/eng/M-ENG-1", form)[0] == 201
    assert ana.post("/followup/eng/M-ENG-1", form)[0] == 409
    rows = _followups(server)
    assert len(rows) == before + 1
    assert {k: rows[-1][k] for k in ("match_id", "by", "channel", "outcome")} == {
        "match_id": "M-ENG-1",
        "by": "ana",
        "channel": "email",
        "outcome": "reached",
    }
    folder = server.data_dir / "landing" / "followups"
    assert not list(folder.glob(".*"))  # no temporary file left behind
    # The one-time token is bound to its match: reused for another pair it is refused.
    status, other = _followup_form(ana, "eng", "M-ENG-2")
    assert ana.post("/followup/eng/M-ENG-2", {**other, "once": form["once"]})[0] in (403, 409)


def test_a_manager_cannot_post_or_open_the_form_for_another_program(server):
    ana, bruno = server.client(), server.client()
    assert ana.login("ana") == 302 and bruno.login("bruno") == 302
    before = len(_followups(server))
    assert _followup_form(ana, "arts", "M-ARTS-1")[0] == 404
    # A pair of another program under one's own program's address.
    assert _followup_form(ana, "eng", "M-ARTS-1")[0] == 404
    # Bruno's valid form for his pair, posted by Ana (her session, her CSRF token).
    _, form = _followup_form(bruno, "arts", "M-ARTS-1")
    _, ana_form = _followup_form(ana, "eng", "M-ENG-1")
    forged = {**form, "csrf_token": ana_form["csrf_token"]}
    assert ana.post("/followup/arts/M-ARTS-1", forged)[0] == 404
    assert ana.post("/followup/eng/M-ENG-1", {**ana_form, "once": form["once"]})[0] == 403
    assert len(_followups(server)) == before
