"""Alerts: a run that failed, automation that stopped, a source gone stale.

Each is a short message sent by e-mail (the digest's SMTP settings, to
MENTORPULSE_ALERT_RECIPIENTS) and, when MENTORPULSE_ALERT_WEBHOOK_URL is set, as a JSON POST to
that URL ({"text", "subject", "body", "cause"}: Slack, Mattermost and Teams incoming webhooks
read "text"). Each cause is alerted once: the causes already told are kept in the instance
(its key-value store, a few hundred bytes); a condition that clears is forgotten, so it alerts
again if it comes back, and one still standing after REMIND_AFTER_SECONDS is told again.

The sensors live in their own code location (pipelines/watch.py, imported without the
pipeline's assets): when the pipeline's code location fails to load, its sensors and schedule
stop, and these still run to say so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import dagster as dg

from assets.settings import Settings, load_settings

PIPELINE_LOCATION = "mentorpulse"
LEDGER_KEY = "mentorpulse/alerts"
REMIND_AFTER_SECONDS = 24 * 3600
TIMEOUT_SECONDS = 20
# The pipeline's automation, as pipelines/definitions.py declares it (a test keeps them equal):
# name -> (kind, how long without a tick or iteration before it counts as stopped).
EXPECTED_AUTOMATION = {
    "landing_files": ("sensor", 10 * 60),
    "dead_runs": ("sensor", 10 * 60),
    # The scheduler writes a schedule's last iteration at least hourly (plus up to 10 min).
    "nightly_refresh": ("schedule", 2 * 3600),
}
# A watcher that has just started gives the daemon this long to tick everything once.
STARTUP_GRACE_SECONDS = 10 * 60
DASHBOARDS_KEY = dg.AssetKey(["dashboards", "pages"])


@dataclasses.dataclass(frozen=True)
class Alert:
    cause: str  # what makes two alerts the same: told once
    subject: str
    body: str


# --- sending ---------------------------------------------------------------------------------


def channels(settings: Settings) -> list[str]:
    found = []
    if settings.smtp_host and settings.alert_recipients:
        found.append("e-mail")
    if settings.alert_webhook_url:
        found.append("webhook")
    return found


def send(settings: Settings, alert: Alert) -> tuple[bool, list[str]]:
    """Send by every channel set; (delivered by at least one, problems). Never raises."""
    problems, delivered = [], False
    if settings.smtp_host and settings.alert_recipients:
        try:
            _mail(settings, alert)
            delivered = True
        except (OSError, smtplib.SMTPException, ValueError) as error:
            problems.append(
                f"alert not e-mailed through {settings.smtp_host}:{settings.smtp_port}: "
                f"{error} (MENTORPULSE_SMTP_HOST, MENTORPULSE_ALERT_RECIPIENTS)"
            )
    if settings.alert_webhook_url:
        try:
            _post(settings.alert_webhook_url, alert)
            delivered = True
        except (OSError, ValueError) as error:
            problems.append(
                f"alert not posted to the webhook: {error} (MENTORPULSE_ALERT_WEBHOOK_URL)"
            )
    return delivered, problems


def _mail(settings: Settings, alert: Alert) -> None:
    message = EmailMessage()
    message["Subject"] = f"[Mentor Pulse] {alert.subject}"
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(settings.alert_recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="mentorpulse")
    message.set_content(alert.body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as server:
        if settings.smtp_starttls:
            server.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            server.login(settings.smtp_user, settings.smtp_password or "")
        server.send_message(message)


def _post(url: str, alert: Alert) -> None:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{url!r} is not an http(s) URL")
    payload = {
        "text": f"[Mentor Pulse] {alert.subject}\n{alert.body}",
        "subject": alert.subject,
        "body": alert.body,
        "cause": alert.cause,
    }
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        response.read()


# --- once per cause -------------------------------------------------------------------------


def _ledger(instance: dg.DagsterInstance) -> dict[str, float]:
    raw = instance.run_storage.get_cursor_values({LEDGER_KEY}).get(LEDGER_KEY)
    return json.loads(raw) if raw else {}


def raise_alerts(
    instance: dg.DagsterInstance,
    settings: Settings,
    alerts: Iterable[Alert],
    log: Callable[[str], None],
    standing_prefix: str | None = None,
    now: float | None = None,
) -> list[Alert]:
    """Send each alert whose cause was not told (or was told REMIND_AFTER_SECONDS ago); with
    `standing_prefix`, causes under it that are no longer raised are forgotten (cleared).
    Returns the alerts sent."""
    now = time.time() if now is None else now
    alerts = list(alerts)
    told = _ledger(instance)
    before = dict(told)
    if standing_prefix is not None:
        raised = {a.cause for a in alerts}
        for cause in [c for c in told if c.startswith(standing_prefix) and c not in raised]:
            log(f"cleared: {cause}")
            del told[cause]
    for cause in [c for c, at in told.items() if now - at > 7 * REMIND_AFTER_SECONDS]:
        del told[cause]  # the ledger keeps only what it must
    sent = []
    for alert in alerts:
        if now - told.get(alert.cause, -REMIND_AFTER_SECONDS) < REMIND_AFTER_SECONDS:
            continue
        log(f"{alert.subject}\n{alert.body}")
        if not channels(settings):
            log(
                "alert not sent: set MENTORPULSE_SMTP_HOST with MENTORPULSE_ALERT_RECIPIENTS, "
                "or MENTORPULSE_ALERT_WEBHOOK_URL"
            )
            told[alert.cause] = now  # logged: that is all there is to do with it
            continue
        delivered, problems = send(settings, alert)
        for problem in problems:
            log(problem)
        if delivered:
            told[alert.cause] = now
            sent.append(alert)
    if told != before:
        instance.run_storage.set_cursor_values({LEDGER_KEY: json.dumps(told, sort_keys=True)})
    return sent


# --- a run failed ---------------------------------------------------------------------------


def _fingerprint(text: str) -> str:
    """The message without what changes from run to run (ids, pids, numbers)."""
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27,}", "<id>", text)
    text = re.sub(r"\d+", "#", text)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_failure_alert(
    run: dg.DagsterRun, message: str, failed_steps: list[tuple[str, str]]
) -> Alert:
    first = (failed_steps[0][1] if failed_steps else message).strip().splitlines() or [""]
    trigger = run.tags.get("mentorpulse/trigger") or run.tags.get("dagster/schedule_name")
    lines = [
        f"Run {run.run_id} of {run.job_name} failed.",
        f"As of: {run.tags.get('mentorpulse/as_of', '?')}"
        + (f"; started for: {trigger}" if trigger else ""),
        f"Why: {message.strip()}",
    ]
    lines += [
        f"Step {step}: {error.strip().splitlines()[0][:300]}"
        for step, error in failed_steps[:3]
        if error.strip()
    ]
    lines.append("The run's page in the Dagster UI has its whole log.")
    steps = ",".join(sorted(s for s, _ in failed_steps))
    return Alert(
        cause=f"run_failure:{run.job_name}:{steps}:{_fingerprint(first[0])}",
        subject=f"run of {run.job_name} failed" + (f" in {steps}" if steps else ""),
        body="\n".join(lines),
    )


def _log(context) -> Callable[[str], None]:
    """context.log only when called: a tick that touches it leaves a log file under
    $DAGSTER_HOME/storage that tick retention does not remove."""
    return lambda message: context.log.warning(message)


@dg.run_failure_sensor(
    name="alert_run_failure",
    monitor_all_code_locations=True,
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends an alert (e-mail, webhook) when a run fails or is killed; the same "
    "failure again within a day is not sent again.",
)
def alert_run_failure(context: dg.RunFailureSensorContext):
    steps = [
        (
            e.step_key or "?",
            e.event_specific_data.error.message
            if e.event_specific_data and e.event_specific_data.error
            else "",
        )
        for e in context.get_step_failure_events()
    ]
    alert = run_failure_alert(context.dagster_run, context.failure_event.message or "", steps)
    raise_alerts(context.instance, load_settings(), [alert], _log(context))


# --- automation stopped ---------------------------------------------------------------------


def _states(instance: dg.DagsterInstance) -> dict[str, object]:
    found = {}
    for state in instance.all_instigator_state():
        origin = state.origin.repository_origin.code_location_origin
        if origin.location_name == PIPELINE_LOCATION and state.name in EXPECTED_AUTOMATION:
            found[state.name] = state
    return found


def _ago(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def automation_alerts(
    instance: dg.DagsterInstance, now: float, watching_since: float
) -> list[Alert]:
    """One alert per expected sensor or schedule that is stopped, missing, silent or failing."""
    from dagster._core.scheduler.instigation import InstigatorStatus, TickStatus

    states = _states(instance)
    alerts = []
    load_hint = (
        "the code location may not load (Deployment page of the UI: a SQL or Python error), or "
        "the daemon is not running"
    )
    for name, (kind, silent_after) in EXPECTED_AUTOMATION.items():
        state = states.get(name)
        if state is None:
            if now - watching_since > STARTUP_GRACE_SECONDS:
                alerts.append(
                    Alert(
                        f"automation:{name}:missing",
                        f"{kind} {name} is missing",
                        f"The {kind} {name} of the {PIPELINE_LOCATION} code location has never "
                        f"run here: {load_hint}. Files landing are not ingested meanwhile.",
                    )
                )
            continue
        if state.status == InstigatorStatus.STOPPED:
            alerts.append(
                Alert(
                    f"automation:{name}:stopped",
                    f"{kind} {name} is stopped",
                    f"The {kind} {name} was turned off (Automation page of the UI). Turn it on "
                    "again, or files landing wait for someone to run the pipeline.",
                )
            )
            continue
        data = state.instigator_data
        last = (
            getattr(data, "last_tick_timestamp", None)
            if kind == "sensor"
            else getattr(data, "last_iteration_timestamp", None)
        )
        if last is not None and now - last > silent_after:
            alerts.append(
                Alert(
                    f"automation:{name}:silent",
                    f"{kind} {name} has stopped running",
                    f"The {kind} {name} last ran {_ago(now - last)} ago: {load_hint}.",
                )
            )
            continue
        if kind == "sensor":
            ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
            if ticks and ticks[0].status == TickStatus.FAILURE:
                error = ticks[0].error.message.strip().splitlines()[0] if ticks[0].error else ""
                alerts.append(
                    Alert(
                        f"automation:{name}:failing",
                        f"sensor {name} fails",
                        f"The sensor {name} fails on every tick: {error[:300]}",
                    )
                )
    return alerts


@dg.sensor(
    name="alert_automation",
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends an alert when a sensor or the schedule of the pipeline is stopped, "
    "missing, silent or failing (e.g. its code location does not load).",
)
def alert_automation(context: dg.SensorEvaluationContext):
    now = time.time()
    since = float(context.cursor) if context.cursor else now
    context.update_cursor(str(since))
    alerts = automation_alerts(context.instance, now, since)
    raise_alerts(context.instance, load_settings(), alerts, _log(context), "automation:", now)
    return dg.SkipReason(
        "; ".join(a.subject for a in alerts) if alerts else "every sensor and schedule runs"
    )


# --- a source went stale --------------------------------------------------------------------


def stale_alerts(instance: dg.DagsterInstance) -> list[Alert]:
    """The sources the last dashboards build found older than the freshness setting."""
    event = instance.get_latest_materialization_event(DASHBOARDS_KEY)
    if event is None or event.asset_materialization is None:
        return []
    metadata = event.asset_materialization.metadata
    stale = metadata.get("stale_sources")
    if stale is None:
        return []
    rows = json.loads(stale.value if hasattr(stale, "value") else stale)
    as_of = metadata.get("as_of")
    as_of = as_of.value if hasattr(as_of, "value") else as_of
    return [
        Alert(
            f"stale:{row['source']}",
            f"no new {row['source']} records for {row['age_days']} days"
            if row.get("newest_on")
            else f"no {row['source']} records at all",
            f"As of {as_of}, the newest {row['source']} record is of "
            f"{row.get('newest_on') or 'never'} ({row.get('age_days', '?')} days; the limit is "
            f"{row.get('limit_days', '?')} days, MENTORPULSE_FRESHNESS_DAYS). Check that the "
            "export still runs and lands its files in landing/.",
        )
        for row in rows
    ]


@dg.sensor(
    name="alert_stale_source",
    minimum_interval_seconds=600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends an alert when a source's newest record is older than "
    "MENTORPULSE_FRESHNESS_DAYS (as the last dashboards build found it).",
)
def alert_stale_source(context: dg.SensorEvaluationContext):
    alerts = stale_alerts(context.instance)
    raise_alerts(context.instance, load_settings(), alerts, _log(context), "stale:")
    return dg.SkipReason(
        "; ".join(a.subject for a in alerts) if alerts else "every source is fresh"
    )


ALERT_SENSORS = [alert_run_failure, alert_automation, alert_stale_source]
