"""Sending the weekly digest by e-mail (SMTP), each program's part to that program's managers.

Recipients are given per program (MENTORPULSE_DIGEST_RECIPIENTS, parsed in assets/settings.py):
a program's recipients get a digest of that program only; recipients under "*" get every
program. The digest is sent at most once a week: only when none was sent for an as-of date
from D − 6 to D (digest/sent.json records what was sent). A failure is reported, never raised, and the
next run tries again.
"""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from dashboards.build import RESTRICTED_MODE, write_atomic
from dashboards.digest import Digest, render, subject

ALL_PROGRAMS = "*"
SENT_LOG = "sent.json"
TIMEOUT_SECONDS = 30
RESEND_AFTER_DAYS = 7


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    recipients: Mapping[str, tuple[str, ...]]  # program (or "*") -> addresses
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)  # "digest sent: Program -> a@x.org, b@x.org"
    warnings: list[str] = field(default_factory=list)  # what went wrong or needs fixing
    notes: list[str] = field(default_factory=list)  # why nothing (or not everything) was sent

    def lines(self) -> list[str]:
        return [*self.sent, *self.warnings, *self.notes]


def send_digest(digest: Digest, smtp: SmtpSettings, digest_dir: Path) -> SendReport:
    """Send `digest` if it is due; every outcome is in the report, nothing is raised."""
    report = SendReport()
    last = _last_sent(digest_dir)
    if last is not None and 0 <= (digest.as_of - last).days < RESEND_AFTER_DAYS:
        report.notes.append(
            f"digest not sent: the digest of {last.isoformat()} was sent less than "
            f"{RESEND_AFTER_DAYS} days before {digest.as_of.isoformat()}"
        )
        return report
    messages = _messages(digest, smtp, report)
    if not messages:
        return report
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS) as server:
            if smtp.starttls:
                server.starttls(context=ssl.create_default_context())
            if smtp.user:
                server.login(smtp.user, smtp.password or "")
            for scope, message in messages:
                try:
                    refused = server.send_message(message)
                except (smtplib.SMTPException, ValueError) as error:  # ValueError: non-ASCII
                    report.warnings.append(
                        f"digest NOT sent to {scope}: the server refused it ({_reason(error)})"
                    )
                    continue
                accepted = [a for a in message["To"].split(", ") if a not in refused]
                report.sent.append(f"digest sent: {scope} -> {', '.join(accepted)}")
                if refused:
                    report.warnings.append(
                        f"digest NOT sent to {scope}: refused recipients {', '.join(refused)}"
                    )
    except (OSError, smtplib.SMTPException, ValueError) as error:
        report.warnings.append(
            f"digest NOT sent: cannot send through {smtp.host}:{smtp.port} ({_reason(error)}); check "
            "MENTORPULSE_SMTP_HOST, _PORT, _USER, _PASSWORD and _STARTTLS"
        )
    if report.sent:
        _record_sent(digest_dir, digest.as_of, report.sent)
    return report


def _messages(
    digest: Digest, smtp: SmtpSettings, report: SendReport
) -> list[tuple[str, EmailMessage]]:
    """One message per program with recipients, and one of every program for "*"."""
    programs = [p.program for p in digest.programs]
    unknown = sorted(set(smtp.recipients) - set(programs) - {ALL_PROGRAMS})
    if unknown:
        report.warnings.append(
            "MENTORPULSE_DIGEST_RECIPIENTS names programs with no data: "
            + ", ".join(unknown)
            + f" (programs: {', '.join(programs) or 'none yet'})"
        )
    without = [p for p in programs if p not in smtp.recipients]
    if without and ALL_PROGRAMS not in smtp.recipients:
        report.notes.append(f"no digest recipients for: {', '.join(without)}")
    scopes: list[tuple[str, list[str] | None]] = [
        (program, [program]) for program in programs if smtp.recipients.get(program)
    ]
    if smtp.recipients.get(ALL_PROGRAMS):
        scopes.append(("all programs", None))
    messages = []
    for scope, chosen in scopes:
        to = smtp.recipients[chosen[0] if chosen else ALL_PROGRAMS]
        message = EmailMessage()
        message["Subject"] = subject(digest, chosen)
        message["From"] = smtp.sender
        message["To"] = ", ".join(to)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
        message.set_content(
            f"{subject(digest, chosen)}.\n\nThe digest is the HTML part of this message. "
            "It holds personal data for program managers: do not forward.\n"
        )
        message.add_alternative(render(digest, chosen), subtype="html")
        messages.append((scope, message))
    return messages


def _reason(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode("utf-8", "replace") if error.smtp_error else ""
        return f"{error.smtp_code} {text}".strip()
    return f"{type(error).__name__}: {error}"


def _last_sent(digest_dir: Path) -> dt.date | None:
    path = Path(digest_dir) / SENT_LOG
    if not path.exists():
        return None
    days = [dt.date.fromisoformat(day) for day in json.loads(path.read_text())]
    return max(days, default=None)


def _record_sent(digest_dir: Path, as_of: dt.date, sent: list[str]) -> None:
    path = Path(digest_dir) / SENT_LOG
    log = json.loads(path.read_text()) if path.exists() else {}
    log[as_of.isoformat()] = sent
    write_atomic(path, json.dumps(log, indent=1, sort_keys=True).encode("utf-8"), RESTRICTED_MODE)
