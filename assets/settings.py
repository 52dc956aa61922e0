"""Settings: the environment variables of DATA_CONTRACT.md, read once into a frozen object.

Everything the pipeline reads or writes hangs off one data root. A settings file is not
needed: every value has a default and the environment wins.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "MENTORPULSE_"
# DuckDB's memory limit on the working database (the pipeline's connections and dbt's): it
# spills to disk beyond this, leaving most of the machine to everything else.
WORKING_DB_MEMORY_LIMIT = "1GB"
# The settings a run fixes at its start and carries in its run config and tags (each read from
# MENTORPULSE_<NAME upper-cased>): every step of one run computes with the same values.
RUN_PARAMETERS = (
    "as_of",
    "timezone",
    "min_group_size",
    "lapse_days",
    "first_meeting_grace_days",
    "default_target_per_month",
    "freshness_days",
)


class SettingsError(ValueError):
    """A setting has a value the pipeline cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    as_of: dt.date
    timezone: str
    min_group_size: int
    lapse_days: int
    first_meeting_grace_days: int
    default_target_per_month: float
    pseudonym_key_override: str | None = None
    freshness_days: int = 7
    lock_wait_seconds: int = 1800
    ingest_batch_records: int = 200_000  # records per ingest transaction: bounds its memory
    # Published warehouses kept by as-of date (warehouse/history/<as_of>/): 8 keeps last
    # week's beside today's under daily runs; 0 keeps none.
    keep_published: int = 8
    run_retention_days: int = 30  # finished Dagster runs older than this are deleted; 0: kept
    # The weekly digest's e-mail (docs/digest.md): no host, no e-mail.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    digest_recipients: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (program or "*", addresses)
    # Alerts (pipelines/alerts.py): e-mailed by the SMTP settings above, and/or POSTed as JSON.
    alert_recipients: tuple[str, ...] = ()
    alert_webhook_url: str | None = None

    # --- the layout under the data root -------------------------------------------------
    @property
    def history_dir(self) -> Path:
        """Published warehouses kept by as-of date: history/<YYYY-MM-DD>/."""
        return self.warehouse_dir / "history"

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def warehouse_dir(self) -> Path:
        return self.data_dir / "warehouse"

    @property
    def published_path(self) -> Path:
        return self.warehouse_dir / "mentoring.duckdb"

    @property
    def parquet_dir(self) -> Path:
        return self.warehouse_dir / "parquet"

    @property
    def dashboards_dir(self) -> Path:
        return self.data_dir / "dashboards"

    @property
    def restricted_dir(self) -> Path:
        return self.data_dir / "restricted"

    @property
    def working_db_path(self) -> Path:
        # The pipeline's own read-write database holds staging (free-text notes, comments) and
        # the identity table, so it lives in restricted/ and is never published as is.
        return self.restricted_dir / "pipeline.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster_home"

    @property
    def run_lock_path(self) -> Path:
        # Held (flock) by the one run writing under this data root; the OS frees it on death.
        return self.data_dir / "run.lock"

    def with_as_of(self, as_of: dt.date) -> Settings:
        return replace(self, as_of=as_of)

    def run_parameters(self) -> dict[str, str | int | float]:
        """The run's fixed parameters, as the warehouse resource's run config takes them."""
        values = {name: getattr(self, name) for name in RUN_PARAMETERS}
        return {**values, "as_of": self.as_of.isoformat()}

    def pseudonym_key(self) -> str:
        """The secret for participant pseudonyms: the variable, else restricted/pseudonym.key.

        The key file is created (mode 0600) on first use so keys stay stable across runs.
        """
        if self.pseudonym_key_override:
            return self.pseudonym_key_override
        ensure_restricted_dir(self.restricted_dir)
        key_path = self.restricted_dir / "pseudonym.key"
        if not key_path.exists():
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return key_path.read_text().strip()


def ensure_restricted_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def _int(env: dict[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(ENV_PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise SettingsError(f"{ENV_PREFIX}{name}={raw!r} must be at least {minimum}")
    return value


def _flag(env: dict[str, str], name: str) -> bool:
    raw = (env.get(ENV_PREFIX + name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{ENV_PREFIX}{name}={raw!r} must be true or false (1/0, yes/no)")


def _recipients(env: dict[str, str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """'ProgramA=a@x.org,b@x.org;ProgramB=c@x.org' ("*" for every program)."""
    name = ENV_PREFIX + "DIGEST_RECIPIENTS"
    entries = []
    for entry in filter(str.strip, (env.get(name) or "").split(";")):
        program, equals, addresses = entry.partition("=")
        emails = tuple(a.strip() for a in addresses.split(",") if a.strip())
        bad = [a for a in emails if "@" not in a or any(c.isspace() for c in a)]
        if not equals or not program.strip() or not emails or bad:
            raise SettingsError(
                f"{name}: {entry.strip()!r} is not PROGRAM=address,address "
                "(entries separated by ';', e.g. 'Engineering=a@x.org,b@x.org;*=c@x.org')"
            )
        entries.append((program.strip(), emails))
    return tuple(entries)


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from the environment (or the mapping given, for tests)."""
    env = dict(os.environ if env is None else env)
    timezone = env.get(ENV_PREFIX + "TIMEZONE") or "UTC"
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"{ENV_PREFIX}TIMEZONE={timezone!r} is not an IANA time zone (e.g. Europe/Lisbon)"
        ) from None

    as_of_raw = env.get(ENV_PREFIX + "AS_OF")
    if as_of_raw:
        try:
            as_of = dt.date.fromisoformat(as_of_raw.strip())
        except ValueError:
            raise SettingsError(
                f"{ENV_PREFIX}AS_OF={as_of_raw!r} is not a date in YYYY-MM-DD form"
            ) from None
    else:
        as_of = dt.datetime.now(zone).date()

    target_raw = env.get(ENV_PREFIX + "DEFAULT_TARGET_PER_MONTH") or "2"
    try:
        default_target = float(target_raw)
    except ValueError:
        default_target = -1.0
    if not 0 < default_target <= 31:
        raise SettingsError(
            f"{ENV_PREFIX}DEFAULT_TARGET_PER_MONTH={target_raw!r} must be a number > 0 and <= 31"
        )

    return Settings(
        data_dir=Path(env.get(ENV_PREFIX + "DATA_DIR") or "./data").resolve(),
        as_of=as_of,
        timezone=timezone,
        min_group_size=_int(env, "MIN_GROUP_SIZE", 5, 1),
        lapse_days=_int(env, "LAPSE_DAYS", 60, 1),
        first_meeting_grace_days=_int(env, "FIRST_MEETING_GRACE_DAYS", 14, 0),
        default_target_per_month=default_target,
        pseudonym_key_override=env.get(ENV_PREFIX + "PSEUDONYM_KEY") or None,
        freshness_days=_int(env, "FRESHNESS_DAYS", 7, 1),
        lock_wait_seconds=_int(env, "LOCK_WAIT_SECONDS", 1800, 0),
        ingest_batch_records=_int(env, "INGEST_BATCH_RECORDS", 200_000, 1),
        keep_published=_int(env, "KEEP_PUBLISHED", 8, 0),
        run_retention_days=_int(env, "RUN_RETENTION_DAYS", 30, 0),
        **_smtp(env),
    )


def _smtp(env: dict[str, str]) -> dict:
    host = (env.get(ENV_PREFIX + "SMTP_HOST") or "").strip() or None
    sender = (env.get(ENV_PREFIX + "SMTP_FROM") or "").strip() or None
    if host and not sender:
        raise SettingsError(f"{ENV_PREFIX}SMTP_HOST is set: set {ENV_PREFIX}SMTP_FROM too")
    return {
        "smtp_host": host,
        "smtp_port": _int(env, "SMTP_PORT", 25, 1),
        "smtp_from": sender,
        "smtp_user": env.get(ENV_PREFIX + "SMTP_USER") or None,
        "smtp_password": env.get(ENV_PREFIX + "SMTP_PASSWORD") or None,
        "smtp_starttls": _flag(env, "SMTP_STARTTLS"),
        "digest_recipients": _recipients(env),
        **_alerts(env, host),
    }


def _alerts(env: dict[str, str], smtp_host: str | None) -> dict:
    name = ENV_PREFIX + "ALERT_RECIPIENTS"
    recipients = tuple(a.strip() for a in (env.get(name) or "").split(",") if a.strip())
    bad = [a for a in recipients if "@" not in a or any(c.isspace() for c in a)]
    if bad:
        raise SettingsError(f"{name}: {bad[0]!r} is not an e-mail address (a,b,c)")
    if recipients and not smtp_host:
        raise SettingsError(f"{name} is set: set {ENV_PREFIX}SMTP_HOST (and _FROM) too")
    url = (env.get(ENV_PREFIX + "ALERT_WEBHOOK_URL") or "").strip() or None
    if url and not url.startswith(("http://", "https://")):
        raise SettingsError(f"{ENV_PREFIX}ALERT_WEBHOOK_URL={url!r} must be an http(s) URL")
    return {"alert_recipients": recipients, "alert_webhook_url": url}


def bind_settings(con, settings: Settings) -> None:
    """Make the run's settings visible to SQL as DuckDB variables (`getvariable('as_of')`),
    and local time the program's: SQL never has values formatted into it."""
    con.execute("SET TimeZone = ?", [settings.timezone])
    values = {
        "as_of": ("DATE", settings.as_of),
        "timezone": ("VARCHAR", settings.timezone),
        "min_group_size": ("INTEGER", settings.min_group_size),
        "lapse_days": ("INTEGER", settings.lapse_days),
        "first_meeting_grace_days": ("INTEGER", settings.first_meeting_grace_days),
        "default_target_per_month": ("DOUBLE", settings.default_target_per_month),
        "freshness_days": ("INTEGER", settings.freshness_days),
    }
    for name, (sql_type, value) in values.items():
        con.execute(f"SET VARIABLE {name} = ?::{sql_type}", [value])
