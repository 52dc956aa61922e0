"""The pseudonym secret's published fingerprint, and re-identification as a deliberate,
logged act (`mentorpulse reidentify`), on a working database loaded from the example files."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

from assets.ingest.contract import SOURCES
from assets.ingest.loader import ingest_source
from assets.reidentify import ReidentifyError, audit_log_path, reidentify
from assets.resources import open_working_db
from assets.warehouse.pseudonyms import published_fingerprint, sync_participant_keys
from pipelines.cli import main
from tests import dbt_compiled
from tests.conftest import copy_examples

SECRET_A = "secret-a-" + "ab" * 20
SECRET_B = "secret-b-" + "cd" * 20


def _run_info(settings) -> dict:
    """Sync the keys with the settings' secret, build core.run_info, return its row."""
    with open_working_db(settings) as con:
        sync_participant_keys(con, settings.pseudonym_key())
        dbt_compiled.build(con, ["core.run_info"])
        cursor = con.execute("SELECT * FROM core.run_info")
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


@pytest.fixture
def loaded(settings):
    copy_examples(settings)
    settings = dataclasses.replace(settings, pseudonym_key_override=SECRET_A)
    with open_working_db(settings) as con:
        for source in SOURCES.values():
            ingest_source(con, source, settings.landing_dir, log=lambda _: None)
    return settings


def _keys(settings) -> dict[str, str]:
    with open_working_db(settings) as con:
        return dict(
            con.execute(
                "SELECT participant_id, participant_key FROM restricted.participant_keys"
            ).fetchall()
        )


def test_a_new_secret_changes_the_published_fingerprint_and_every_key(loaded) -> None:
    first = _run_info(loaded)
    keys_a = _keys(loaded)
    assert first["pseudonym_key_fingerprint"] == published_fingerprint(SECRET_A)
    assert len(first["pseudonym_key_fingerprint"]) == 16
    assert SECRET_A not in str(first)  # the fingerprint, never the secret

    assert _run_info(loaded)["pseudonym_key_fingerprint"] == first["pseudonym_key_fingerprint"]

    rotated = dataclasses.replace(loaded, pseudonym_key_override=SECRET_B)
    second = _run_info(rotated)
    keys_b = _keys(rotated)
    assert second["pseudonym_key_fingerprint"] == published_fingerprint(SECRET_B)
    assert second["pseudonym_key_fingerprint"] != first["pseudonym_key_fingerprint"]
    assert keys_a.keys() == keys_b.keys() and len(keys_a) > 2
    assert not set(keys_a.values()) & set(keys_b.values())  # every key changed with it


def test_reidentify_needs_a_reason_and_logs_who_when_why_and_which_keys(loaded) -> None:
    _run_info(loaded)
    keys = _keys(loaded)
    pid, key = sorted(keys.items())[0]
    log = audit_log_path(loaded)

    for reason in (None, "", "   ", "because"):
        with pytest.raises(ReidentifyError, match="reason"):
            reidentify(loaded, [key], reason)
    with pytest.raises(ReidentifyError, match="64 hex"):
        reidentify(loaded, ["not-a-key"], "ticket HR-12: contact a mentee")
    assert not log.exists()  # refused requests reveal nothing and log nothing

    unknown = "0" * 64
    found = reidentify(loaded, [key, unknown], "ticket HR-12: contact a mentee", user="alice")
    assert [(r.key, r.participant_id) for r in found] == [(key, pid), (unknown, None)]
    reidentify(loaded, [key.upper()], "ticket HR-13: safeguarding follow-up")

    assert os.stat(log).st_mode & 0o777 == 0o600
    assert os.stat(log.parent).st_mode & 0o777 == 0o700
    first, second = [json.loads(line) for line in log.read_text().splitlines()]
    assert first["user"] == "alice" and second["user"]  # the OS user when not given
    assert first["reason"] == "ticket HR-12: contact a mentee"
    assert first["keys"] == [key, unknown] and first["found"] == 1
    assert second["keys"] == [key] and second["found"] == 1
    assert first["at"] <= second["at"] and first["uid"] == os.getuid()
    assert pid not in log.read_text()  # the log says which keys, not whom


def test_reidentify_command(loaded, monkeypatch, capsys) -> None:
    _run_info(loaded)
    pid, key = sorted(_keys(loaded).items())[0]
    monkeypatch.setenv("MENTORPULSE_PSEUDONYM_KEY", SECRET_A)

    assert main(["reidentify", key]) == 1
    assert "reason" in capsys.readouterr().err
    assert not audit_log_path(loaded).exists()

    assert main(["reidentify", key, "--reason", "ticket HR-14: mentee asked to be contacted"]) == 0
    out = capsys.readouterr()
    assert out.out == f"{key}\t{pid}\n"
    assert "reidentification.log" in out.err
    entry = json.loads(audit_log_path(loaded).read_text())
    assert entry["reason"] == "ticket HR-14: mentee asked to be contacted"
