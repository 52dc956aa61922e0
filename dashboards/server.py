"""`mentorpulse serve`: the dashboards over HTTP, restricted outputs behind a login.

Flask serves the files the build wrote into the dashboards folder; Flask-Login keeps who is
signed in (a signed, HttpOnly session cookie); Flask-WTF puts a CSRF token on every form; and
waitress is the server. What is served:

- public pages (the top of the folder, plotly.min.js): to anyone;
- restricted/<program>/… and digest/<program>/…: to a signed-in user of that program;
- operator/…: to a signed-in operator;
- nothing else: no folder is listed, no dotted or temporary name, nothing whose real path
  (after symlinks) lies outside the folder or in another program's folder.

A manager records a follow-up from the queue: the form (GET /followup/<program>/<match>)
carries a CSRF token and a one-time token bound to the user, program and match; the post
writes landing/followups/<file>.csv under a temporary name and renames it, and the file
sensor ingests it like any other landing file. A post is accepted once (a replay is refused).

Users and their programs come from the users file (dashboards/access.py). With
MENTORPULSE_AUTH_HEADER set, the reverse proxy in front authenticates and names the user in
that header instead (the server must then be reachable only through the proxy).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import secrets
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, abort, redirect, request, send_file, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from markupsafe import escape
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import DateField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from assets.ingest.contract import FOLLOWUP_CHANNELS as CHANNELS
from assets.ingest.contract import FOLLOWUP_OUTCOMES as OUTCOMES
from assets.ingest.contract import FOLLOWUPS
from dashboards.access import (
    DIGEST,
    MATCHES_FILE,
    OPERATOR,
    RESTRICTED,
    User,
    load_users,
)

FOLLOWUP_FOLDER = FOLLOWUPS.folder
FOLLOWUP_COLUMNS = tuple(column.name for column in FOLLOWUPS.columns)
FORM_MAX_AGE = 12 * 3600  # a follow-up form is good for 12 hours
# Compared against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


@dataclass(frozen=True)
class ServeConfig:
    dashboards_dir: Path
    landing_dir: Path
    users_file: Path
    secret_key: bytes
    secure_cookies: bool = False
    auth_header: str | None = None  # e.g. "X-Remote-User": trust the reverse proxy's header


class SignedIn(UserMixin):
    def __init__(self, user: User):
        self.user = user
        self.id = user.name


class LoginForm(FlaskForm):
    next = HiddenField()
    username = StringField("User", validators=[DataRequired(), Length(max=200)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class FollowupForm(FlaskForm):
    once = HiddenField(validators=[DataRequired()])
    contacted_on = DateField("Contacted on", validators=[InputRequired()])
    channel = SelectField("Channel", choices=[(c, c.replace("_", " ")) for c in CHANNELS])
    outcome = SelectField("Outcome", choices=[(o, o.replace("_", " ")) for o in OUTCOMES])
    note = TextAreaField("Note (restricted, never published)", validators=[Length(max=2000)])


class _Users:
    """The users file, read again when it changes."""

    def __init__(self, path: Path):
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._users: dict[str, User] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> User | None:
        with self._lock:
            try:
                stat = self.path.stat()
                stamp = (stat.st_mtime_ns, stat.st_size)
            except FileNotFoundError:
                stamp = None
            if stamp != self._stamp:
                self._users = load_users(self.path) if stamp else {}
                self._stamp = stamp
            return self._users.get(name)


def create_app(config: ServeConfig) -> Flask:
    root = config.dashboards_dir.resolve()
    users = _Users(config.users_file)
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_NAME="mentorpulse_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=FORM_MAX_AGE,
        WTF_CSRF_SSL_STRICT=config.secure_cookies,
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    CSRFProtect(app)
    logins = LoginManager(app)
    logins.session_protection = "strong"
    logins.login_view = None if config.auth_header else "login"
    once = URLSafeTimedSerializer(config.secret_key, salt="mentorpulse-followup")
    used_lock = threading.Lock()

    @logins.user_loader
    def _load(name: str) -> SignedIn | None:
        if config.auth_header:
            return None
        user = users.get(name)
        return SignedIn(user) if user and user.password_hash else None

    @logins.request_loader
    def _from_proxy(req) -> SignedIn | None:
        if not config.auth_header:
            return None
        name = (req.headers.get(config.auth_header) or "").strip()
        user = users.get(name) if name else None
        return SignedIn(user) if user else None

    def signed_in() -> User | None:
        return current_user.user if current_user.is_authenticated else None

    @app.after_request
    def _headers(response):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.path != "/" and not _is_public(request.path.lstrip("/")):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return _page(
            "Refused",
            "<p>The form was not sent from this site (or is too old). Go "
            "back, reload the page and try again.</p>",
        ), 400

    @app.get("/login")
    def login():
        if config.auth_header:
            abort(404)
        form = LoginForm(next=_local(request.args.get("next")))
        return _page("Sign in", _login_html(form))

    @app.post("/login")
    def login_post():
        if config.auth_header:
            abort(404)
        form = LoginForm()
        if form.validate_on_submit():
            user = users.get(form.username.data)
            stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
            if check_password_hash(stored, form.password.data) and user and user.password_hash:
                session.clear()
                login_user(SignedIn(user))
                session.permanent = True
                return redirect(_local(form.next.data) or "/")
        return _page(
            "Sign in", '<p class="error">Wrong user or password.</p>' + _login_html(form)
        ), 401

    @app.get("/logout")
    def logout_form():
        form = FlaskForm()
        return _page(
            "Sign out",
            f'<form method="post" action="/logout">{form.csrf_token()}'
            '<button type="submit">Sign out</button></form>',
        )

    @app.post("/logout")
    def logout():
        logout_user()
        session.clear()
        return redirect("/")

    @app.get("/followup/<slug>/<match_id>")
    def followup_form(slug: str, match_id: str):
        user = _require(slug, match_id)
        token = once.dumps({"u": user.name, "p": slug, "m": match_id, "n": secrets.token_hex(16)})
        form = FollowupForm(once=token, contacted_on=dt.date.today())
        return _page("Record a follow-up", _followup_html(form, slug, match_id))

    @app.post("/followup/<slug>/<match_id>")
    def followup_post(slug: str, match_id: str):
        user = _require(slug, match_id)
        form = FollowupForm()
        if not form.validate_on_submit():
            return _page(
                "Record a follow-up", _errors(form) + _followup_html(form, slug, match_id)
            ), 400
        try:
            claim = once.loads(form.once.data, max_age=FORM_MAX_AGE)
        except (BadSignature, SignatureExpired):
            abort(400)
        if claim != {**claim, "u": user.name, "p": slug, "m": match_id}:
            abort(403)
        nonce = claim["n"]
        if not (len(nonce) == 32 and all(c in "0123456789abcdef" for c in nonce)):
            abort(400)
        folder = config.landing_dir / FOLLOWUP_FOLDER
        with used_lock:
            written = write_followup(
                folder,
                nonce,
                {
                    "followup_id": nonce,
                    "match_id": match_id,
                    "contacted_on": form.contacted_on.data.isoformat(),
                    "by": user.name,
                    "channel": form.channel.data,
                    "outcome": form.outcome.data,
                    "note": (form.note.data or "").strip(),
                },
            )
        if not written:
            return _page("Already recorded", "<p>This follow-up was recorded already.</p>"), 409
        back = f"/{RESTRICTED}/{slug}/at_risk.html"
        return _page(
            "Follow-up recorded",
            f"<p>Recorded. It shows in the queue after the next pipeline run picks it up.</p>"
            f'<p><a href="{back}">Back to the queue</a></p>',
        ), 201

    @app.get("/", defaults={"path": ""})
    @app.get("/<path:path>")
    def serve(path: str):
        path = path or "index.html"
        parts = path.split("/")
        if any(part in ("", ".", "..") or part.startswith(".") or "\\" in part for part in parts):
            abort(404)
        if not _is_public(path):
            if signed_in() is None:
                return logins.unauthorized()
            if not _may_read(signed_in(), parts):
                abort(404)
        target = root.joinpath(*parts)
        try:
            real = target.resolve(strict=True)
        except (OSError, RuntimeError):
            abort(404)
        if not real.is_relative_to(root) or not real.is_file():
            abort(404)
        # A symlink is followed only to where the same user may read, under the same rules.
        real_parts = real.relative_to(root).parts
        if not _is_public("/".join(real_parts)) and not _may_read(signed_in(), list(real_parts)):
            abort(404)
        if _is_public(path) and not _is_public("/".join(real_parts)):
            abort(404)
        return send_file(real, max_age=0 if not _is_public(path) else 300)

    def _require(slug: str, match_id: str) -> User:
        user = signed_in()
        if user is None:
            abort(401)
        if not user.may_read(slug) or match_id not in _program_matches(root, slug):
            abort(404)
        return user

    return app


def _is_public(path: str) -> bool:
    """A file at the top of the folder (not dotted); everything in a subfolder is restricted."""
    return "/" not in path and not path.startswith(".")


def _may_read(user: User | None, parts: list[str]) -> bool:
    if user is None or len(parts) < 2:
        return False
    if parts[0] == OPERATOR:
        return user.operator
    if parts[0] in (RESTRICTED, DIGEST) and len(parts) >= 3:
        return user.may_read(parts[1])
    return False


def _program_matches(root: Path, slug: str) -> frozenset[str]:
    path = root / RESTRICTED / slug / MATCHES_FILE
    if "/" in slug or slug.startswith(".") or not path.is_file():
        return frozenset()
    return frozenset(json.loads(path.read_text(encoding="utf-8")))


def write_followup(folder: Path, followup_id: str, record: dict[str, str]) -> Path | None:
    """Write one follow-up as landing/followups/followup-<id>.csv: a temporary dotted name
    first, then a rename, so the sensor never sees half a file. None when that follow-up exists
    already (a replayed post)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"followup-{followup_id}.csv"
    if path.exists():
        return None
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=FOLLOWUP_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerow(record)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text.getvalue())
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)
        os.link(temp, path)  # fails if a concurrent replay got there first
    except FileExistsError:
        return None
    finally:
        Path(temp).unlink(missing_ok=True)
    return path


def _local(target: str | None) -> str:
    """A redirect target on this site only (a path, never //host or a scheme)."""
    if not target:
        return ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return ""
    return target


STYLE = """body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem;font-weight:600}input,select,textarea{font:inherit;
width:100%;box-sizing:border-box;padding:.4rem}button{font:inherit;margin-top:1rem;padding:.5rem 1rem}
.error{color:#b91c1c;font-weight:600}"""


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>{escape(title)} · Mentor Pulse</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def _login_html(form: LoginForm) -> str:
    return (
        f'<form method="post" action="/login">{form.csrf_token()}{form.next()}'
        f"{form.username.label()}{form.username(autocomplete='username')}"
        f"{form.password.label()}{form.password(autocomplete='current-password')}"
        '<button type="submit">Sign in</button></form>'
    )


def _followup_html(form: FollowupForm, slug: str, match_id: str) -> str:
    action = url_for("followup_post", slug=slug, match_id=match_id)
    return (
        f"<p>Pair <strong>{escape(match_id)}</strong>.</p>"
        f'<form method="post" action="{escape(action)}">{form.csrf_token()}{form.once()}'
        f"{form.contacted_on.label()}{form.contacted_on(type='date')}"
        f"{form.channel.label()}{form.channel()}{form.outcome.label()}{form.outcome()}"
        f"{form.note.label()}{form.note(rows=4)}"
        '<button type="submit">Record follow-up</button></form>'
    )


def _errors(form: FlaskForm) -> str:
    items = "".join(
        f"<li>{escape(getattr(form, name).label.text)}: {escape(' '.join(errors))}</li>"
        for name, errors in form.errors.items()
        if hasattr(form, name)
    )
    return f'<ul class="error">{items}</ul>' if items else '<p class="error">Refused.</p>'


def secret_key(path: Path) -> bytes:
    """The session-signing key, created (0600) on first use so sessions survive a restart."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_bytes().strip()


def serve(config: ServeConfig, host: str, port: int, announce=print) -> None:
    """Bind (port 0: a free one), announce the address, serve until interrupted."""
    from waitress.server import create_server

    server = create_server(create_app(config), host=host, port=port, threads=4, ident="mentorpulse")
    announce(f"http://{host}:{server.effective_port}/")
    try:
        server.run()
    finally:
        server.close()
