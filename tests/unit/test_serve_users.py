"""The users file, `mentorpulse user add`, and the reverse proxy's header (opt-in)."""

from __future__ import annotations

import io
import os
import stat

import pytest
from werkzeug.security import check_password_hash

from dashboards.access import User, load_users, program_slug, save_users
from dashboards.server import ServeConfig, create_app
from pipelines import cli


def test_program_slugs_are_plain_folder_names():
    assert program_slug("Engineering Mentoring") == "engineering-mentoring"
    assert program_slug("Liderança & Growth") == "lideranca-growth"
    assert program_slug("../..") == "program"


def test_user_add_stores_a_salted_hash_in_a_private_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MENTORPULSE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO("a long secret phrase\n"))
    assert cli.main(["user", "add", "ana", "--program", "Eng", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a long secret phrase\n"))
    assert (
        cli.main(["user", "add", "olga", "--program", "*", "--operator", "--password-stdin"]) == 0
    )
    path = tmp_path / "restricted" / "users.toml"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "a long secret phrase" not in path.read_text()
    users = load_users(path)
    assert users["ana"].programs == ("Eng",) and not users["ana"].operator
    assert check_password_hash(users["ana"].password_hash, "a long secret phrase")
    assert users["ana"].password_hash != users["olga"].password_hash  # salted
    assert users["olga"].operator and users["olga"].may_read("anything")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["user", "add", "x", "--program", "Eng", "--password-stdin"]) == 1


@pytest.fixture
def proxied(tmp_path):
    site = tmp_path / "dashboards"
    (site / "restricted" / "eng").mkdir(parents=True)
    (site / "index.html").write_text("home")
    (site / "restricted" / "eng" / "at_risk.html").write_text("ENG")
    save_users(tmp_path / "users.toml", {"ana": User("ana", None, ("Eng",))})
    config = ServeConfig(
        site, tmp_path / "landing", tmp_path / "users.toml", b"k" * 32, auth_header="X-Remote-User"
    )
    return create_app(config).test_client()


def test_behind_a_proxy_the_header_names_the_user_and_the_file_their_programs(proxied):
    assert proxied.get("/restricted/eng/at_risk.html").status_code == 401
    ok = proxied.get("/restricted/eng/at_risk.html", headers={"X-Remote-User": "ana"})
    assert ok.status_code == 200 and ok.data == b"ENG"
    # A user the file does not know gets nothing; the login form is off behind a proxy.
    assert (
        proxied.get("/restricted/eng/at_risk.html", headers={"X-Remote-User": "bob"}).status_code
        == 401
    )
    assert proxied.get("/login").status_code == 404
