"""The dashboards asset: rebuilds the offline HTML pages and the weekly digest after each
publish, and e-mails the digest when SMTP settings are given (docs/digest.md)."""

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from assets.publish import PUBLISHED_KEY
from assets.resources import WarehouseResource
from assets.settings import Settings
from assets.warehouse.table_builds import tables_not_current

if TYPE_CHECKING:  # the pages (Plotly) are imported by the step that builds them, not by the
    # Definitions every run process, CLI command and code server loads
    from dashboards.build import Site
    from dashboards.mail import SendReport

DASHBOARDS_KEY = dg.AssetKey(["dashboards", "pages"])


@dg.asset(
    key=DASHBOARDS_KEY,
    group_name="publish",
    deps=[PUBLISHED_KEY],
    description="Program-health dashboards: offline HTML pages with one local plotly.js; "
    "restricted pages and the weekly digest (e-mailed when SMTP is set).",
    kinds={"plotly", "html"},
)
def dashboards(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """The pages are always rebuilt (they say which tables are behind); then, when a table
    could not be built this run, the step fails, so the run's status in Dagster is the CLI's
    exit code and the run-failure alert goes out, naming each table and why."""
    from dashboards.build import DIGEST, OPERATOR, build_site

    settings = warehouse.settings()
    with warehouse.connect() as con:
        site = build_site(
            con,
            settings.dashboards_dir,
            as_of=settings.as_of,
            built_at=dt.datetime.now(dt.UTC),
            min_group_size=settings.min_group_size,
        )
        behind = tables_not_current(con)
    pages = site.paths
    context.log.info(f"Dashboards: {settings.dashboards_dir / 'index.html'}")
    digest_dir = settings.dashboards_dir / DIGEST
    mail = _send(settings, site, digest_dir)
    for line in mail.sent + mail.notes:
        context.log.info(line)
    for line in mail.warnings:  # a digest that could not be sent is a warning, never a failure
        context.log.warning(line)
    yield dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(settings.dashboards_dir / "index.html")),
            "operator_digest": dg.MetadataValue.path(
                str(settings.dashboards_dir / OPERATOR / site.digest.file_name)
            ),
            "digest_mail": "\n".join(mail.lines()) or "not due",
            "pages": len(pages),
            # read by the alert_stale_source sensor (pipelines/alerts.py)
            "as_of": settings.as_of.isoformat(),
            "stale_sources": json.dumps(
                [
                    {
                        "source": row["source"],
                        "newest_on": str(row["newest_on"]) if row["newest_on"] else None,
                        "age_days": row["age_days"],
                        "limit_days": settings.freshness_days,
                    }
                    for row in site.digest.stale_sources
                ]
            ),
            "bytes": sum(p.stat().st_size for p in pages if p.suffix == ".html"),
        }
    )
    if behind:
        raise dg.Failure(
            description=f"{len(behind)} table(s) kept older content this run (ingest.table_builds): "
            + "; ".join(
                f"{table} ({status}): {detail or 'no detail'}" for table, status, detail in behind
            ),
            metadata={table: f"{status}: {detail or ''}" for table, status, detail in behind},
        )


def _send(settings: Settings, site: "Site", digest_dir: Path) -> "SendReport":
    from dashboards.mail import SendReport, SmtpSettings, send_digest

    if not settings.smtp_host:
        return SendReport(notes=["digest not e-mailed: MENTORPULSE_SMTP_HOST is not set"])
    smtp = SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        recipients=dict(settings.digest_recipients),
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )
    return send_digest(site.digest, smtp, digest_dir)
