"""Re-identification as a deliberate act: pseudonymous keys back to participant ids.

`mentorpulse reidentify KEY... --reason "..."` looks the keys up in the restricted working
database (restricted.participant_keys) and, before printing anything, appends one line to the
audit log `restricted/reidentification.log` (mode 0600, opened append-only): when, who (the OS
user), the reason, the keys asked for and how many were found. Without a reason it refuses and
logs nothing; when the log cannot be written it prints nothing.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

import duckdb

from assets.settings import Settings, ensure_restricted_dir

AUDIT_LOG_NAME = "reidentification.log"
MIN_REASON_LENGTH = 10  # a reason in words (a ticket and what for), not a token
_KEY = re.compile(r"^[0-9a-f]{64}$")


class ReidentifyError(ValueError):
    """The request cannot be served: no reason, a malformed key, nothing ingested yet."""


@dataclass(frozen=True)
class Reidentified:
    key: str
    participant_id: str | None  # None: no participant has this key under the current secret


def audit_log_path(settings: Settings) -> Path:
    return settings.restricted_dir / AUDIT_LOG_NAME


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a container's bare uid)
        return f"uid:{os.getuid()}"


def reidentify(
    settings: Settings, keys: list[str], reason: str | None, *, user: str | None = None
) -> list[Reidentified]:
    """The participant id of each key (None when unknown), once the request is logged."""
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ReidentifyError(
            "a reason is required (--reason, at least "
            f"{MIN_REASON_LENGTH} characters: who asked, the ticket and what for)"
        )
    keys = [key.strip().lower() for key in keys]
    malformed = [key for key in keys if not _KEY.match(key)]
    if not keys or malformed:
        raise ReidentifyError(
            "each KEY is a participant key as published (mentor_key, mentee_key: 64 hex "
            f"digits); not one: {', '.join(malformed) or '(none given)'}"
        )
    found = _lookup(settings, sorted(set(keys)))
    results = [Reidentified(key, found.get(key)) for key in keys]
    _append_audit(
        audit_log_path(settings),
        {
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "user": user or os_user(),
            "uid": os.getuid(),
            "host": socket.gethostname(),
            "reason": reason,
            "keys": keys,
            "found": sum(r.participant_id is not None for r in results),
        },
    )
    return results


def _lookup(settings: Settings, keys: list[str]) -> dict[str, str]:
    try:
        with duckdb.connect(str(settings.working_db_path), read_only=True) as con:
            rows = con.execute(
                "SELECT participant_key, participant_id FROM restricted.participant_keys "
                "WHERE participant_key IN (SELECT unnest(?))",
                [keys],
            ).fetchall()
    except duckdb.IOException as error:
        raise ReidentifyError(
            f"cannot read {settings.working_db_path}: a run is using it or it does not exist "
            "yet (`mentorpulse run` makes it); try again when the run ends"
        ) from error
    except duckdb.CatalogException as error:
        raise ReidentifyError(f"no participant keys yet in {settings.working_db_path}") from error
    return dict(rows)


def _append_audit(path: Path, entry: dict) -> None:
    """One JSON line, appended (O_APPEND: never rewriting what is there), file mode 0600."""
    ensure_restricted_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (json.dumps(entry, ensure_ascii=False) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
