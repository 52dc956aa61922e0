"""The weekly digest sent to a real SMTP server (aiosmtpd) on 127.0.0.1: each program's
managers get their program's digest, "*" gets all of them, failures are reported, not raised."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import socket
from collections.abc import Iterator

import duckdb
import pytest
from aiosmtpd.controller import Controller

from dashboards.build import build_site
from dashboards.mail import SmtpSettings, send_digest
from tests.dashboard_fixture import AS_OF, BUILT_AT, MIN_GROUP_SIZE, create_fixture

ENGINEERING = "Engineering Mentoring"
LIDERANCA = "Liderança & Growth"
REFUSED = "nobody@refused.example.org"


class Inbox:
    """An aiosmtpd handler keeping every message it accepts; refuses one address."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address == REFUSED:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((sorted(envelope.rcpt_tos), message))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
def site(tmp_path):
    with duckdb.connect() as con:
        create_fixture(con)
        built = build_site(
            con, tmp_path, as_of=AS_OF, built_at=BUILT_AT, min_group_size=MIN_GROUP_SIZE
        )
    return built, tmp_path / "digest"


def _settings(port: int, recipients: dict[str, tuple[str, ...]]) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1", port=port, sender="pulse@example.org", recipients=recipients
    )


def test_each_program_gets_its_own_digest_and_star_gets_all(smtp_server, site):
    inbox, port = smtp_server
    built, digest_dir = site
    recipients = {
        ENGINEERING: ("eng-lead@example.org", "eng-ops@example.org"),
        LIDERANCA: ("lid@example.org", REFUSED),
        "*": ("director@example.org",),
        "Typo Program": ("x@example.org",),
    }

    report = send_digest(built.digest, _settings(port, recipients), digest_dir)

    received = {tuple(to): message for to, message in inbox.messages}
    assert set(received) == {
        ("eng-lead@example.org", "eng-ops@example.org"),
        ("lid@example.org",),
        ("director@example.org",),
    }
    engineering = received[("eng-lead@example.org", "eng-ops@example.org")]
    assert engineering["Subject"] == (
        f"Mentor Pulse weekly digest, {ENGINEERING}, as of {AS_OF.isoformat()}"
    )
    assert engineering["From"] == "pulse@example.org"
    body = engineering.get_body(("html",)).get_content()
    assert f"<h2>{ENGINEERING}</h2>" in body and "Liderança" not in body
    # Short: who to contact first (five at most), the figures, what is new, pairs going well;
    # the data problems are the operator's, not in a manager's mail.
    assert "Contact first" in body and "Going well" in body and "Change since" in body
    assert body.count("<li>", body.index("Contact first"), body.index("Figures")) == 5
    assert "Data problems" not in body and "quarantined" not in body
    assert len(body) < 12_000
    everything = received[("director@example.org",)].get_body(("html",)).get_content()
    assert (
        f"<h2>{ENGINEERING}</h2>" in everything and "<h2>Liderança &amp; Growth</h2>" in everything
    )
    assert engineering.get_body(("plain",)).get_content().startswith("Mentor Pulse weekly digest")

    assert any(REFUSED in line for line in report.warnings)
    assert any("Typo Program" in line for line in report.warnings)
    assert len(report.sent) == 3

    # At most once a week: the same as-of date (or one within 7 days) sends nothing more.
    again = send_digest(built.digest, _settings(port, recipients), digest_dir)
    assert len(inbox.messages) == 3 and not again.sent
    assert "was sent less than 7 days before" in again.notes[0]


def test_an_unreachable_server_is_reported_and_nothing_is_recorded(site):
    built, digest_dir = site
    port = _free_port()  # nothing listens there
    report = send_digest(built.digest, _settings(port, {"*": ("a@example.org",)}), digest_dir)
    assert not report.sent
    assert report.warnings and f"cannot send through 127.0.0.1:{port}" in report.warnings[0]
    assert "MENTORPULSE_SMTP_HOST" in report.warnings[0]
    assert not (digest_dir / "sent.json").exists()  # the next run tries again


def test_a_digest_a_week_later_is_sent_again(smtp_server, site):
    inbox, port = smtp_server
    built, digest_dir = site
    smtp = _settings(port, {ENGINEERING: ("eng@example.org",)})
    assert send_digest(built.digest, smtp, digest_dir).sent
    later = dataclasses.replace(built.digest, as_of=AS_OF + dt.timedelta(days=7))
    assert send_digest(later, smtp, digest_dir).sent
    assert [to for to, _ in inbox.messages] == [["eng@example.org"], ["eng@example.org"]]
