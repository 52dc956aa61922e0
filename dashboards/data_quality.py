"""Data quality: what was ingested, what was quarantined and why, and how fresh each source is.

Quarantined records are shown as counts by reason and line number, never their raw text (which
may hold personal data).
"""

from __future__ import annotations

from dashboards import fmt
from dashboards.figures import PALETTE, Axis, Series, category_chart
from dashboards.page import Body, Column, Context, Tile, chart, section, table, tiles
from dashboards.sql import Row, fetch

TITLE = "Data quality"
LEDE = "Which files arrived, which records were set aside and why, and how fresh each source is."

SOURCES = ["participants", "matches", "meetings", "goals", "responses", "invitations"]
# Quarantine reasons are "<family>[:<column>]"; the chart groups them by family.
REASON_FAMILIES = {
    "malformed": "Malformed record",
    "missing_field": "Missing field",
    "bad_type": "Wrong type",
    "bad_value": "Value out of range",
    "conflicting_duplicate": "Conflicting duplicate",
    "schema": "Missing column (whole file)",
    "other": "Other",
}
LIST_LIMIT = 200

_SOURCES = f"""
    SELECT source, position FROM (VALUES {", ".join(f"('{s}', {i})" for i, s in enumerate(SOURCES))})
        AS known(source, position)
    UNION ALL
    SELECT DISTINCT source, {len(SOURCES)} FROM ingest.files
    WHERE source NOT IN ({", ".join(f"'{s}'" for s in SOURCES)})"""

TOTALS_SQL = """
SELECT count(*) AS files,
    count(*) FILTER (WHERE status = 'loaded') AS loaded_files,
    count(*) FILTER (WHERE status = 'duplicate_file') AS duplicate_files,
    count(*) FILTER (WHERE status = 'rejected') AS rejected_files,
    count(*) FILTER (WHERE unknown_fields > 0) AS files_with_unknown_fields,
    coalesce(sum(rows_read), 0) AS rows_read,
    coalesce(sum(rows_loaded), 0) AS rows_loaded,
    coalesce(sum(rows_duplicate), 0) AS rows_duplicate,
    coalesce(sum(rows_quarantined), 0) AS rows_quarantined,
    max(ingested_at) AS last_ingested_at
FROM ingest.files
"""

_FAMILY = (
    "CASE WHEN split_part(reason, ':', 1) IN ("
    + ", ".join(f"'{family}'" for family in REASON_FAMILIES if family != "other")
    + ") THEN split_part(reason, ':', 1) ELSE 'other' END"
)
QUARANTINE_SQL = f"""
WITH sources AS ({_SOURCES}),
reasons AS (SELECT source, {_FAMILY} AS family FROM ingest.quarantine)
SELECT source,
    count(family) AS quarantined,
    {", ".join(f"count(*) FILTER (WHERE family = '{f}') AS {f}" for f in REASON_FAMILIES)}
FROM sources LEFT JOIN reasons USING (source)
GROUP BY source, position
ORDER BY position, source
"""

# The newest file per source (when it was loaded); freshness itself is the newest record's
# date (Context.freshness), which the file's load time says nothing about.
LAST_FILE_SQL = f"""
WITH sources AS ({_SOURCES}),
latest AS (
    SELECT source, path, status, ingested_at
    FROM ingest.files
    QUALIFY row_number() OVER (PARTITION BY source ORDER BY ingested_at DESC, path DESC) = 1
),
counts AS (SELECT source, count(*) AS files FROM ingest.files GROUP BY source)
SELECT source, path, status, ingested_at, coalesce(files, 0) AS files
FROM sources LEFT JOIN latest USING (source) LEFT JOIN counts USING (source)
ORDER BY position, source
"""

QUARANTINE_FILES_SQL = f"""
SELECT source, path, reason, count(*) AS records, min(line) AS first_line,
    max(quarantined_at) AS last_quarantined_at
FROM ingest.quarantine
GROUP BY source, path, reason
ORDER BY records DESC, path, reason
LIMIT {LIST_LIMIT}
"""

ATTENTION_SQL = f"""
SELECT path, source, status, rows_read, rows_quarantined, unknown_fields, message, ingested_at
FROM ingest.files
WHERE status <> 'loaded' OR rows_quarantined > 0 OR unknown_fields > 0
ORDER BY ingested_at DESC, path
LIMIT {LIST_LIMIT}
"""


def build(ctx: Context) -> Body:
    totals = fetch(ctx.con, TOTALS_SQL)[0]
    return Body(
        sections=[
            section(
                "kpis",
                "Ingest at a glance",
                "Every record read is loaded, recorded as an exact duplicate, or quarantined "
                "with a reason.",
                tiles(_tiles(totals, ctx)),
                wide=True,
            ),
            section(
                "quarantine",
                "Quarantined records by source and reason",
                "Records set aside instead of loaded. A whole file is rejected when a required "
                "column is missing.",
                chart("quarantine-chart", _quarantine_chart(fetch(ctx.con, QUARANTINE_SQL))),
            ),
            section(
                "freshness",
                "How fresh each source is",
                f"Per source, the date of its newest record (meeting or goal event, response, "
                f"invitation, match start or end) and its age at the as-of date "
                f"{ctx.as_of.isoformat()}, which is {fmt.count(ctx.days_behind)} days before "
                f"this build. Older than {ctx.run['freshness_days']} days (the freshness "
                "setting) is flagged. Participants' roster rows carry no date of their own.",
                table(_freshness_rows(ctx), _freshness_columns(), keys=()),
                wide=True,
            ),
            section(
                "quarantine-files",
                "Where quarantined records are",
                f"Per file and reason, largest first (up to {LIST_LIMIT}). The line number points "
                "at the first such record in the file.",
                table(
                    fetch(ctx.con, QUARANTINE_FILES_SQL),
                    _quarantine_columns(),
                    keys=(),
                    sortable=True,
                ),
                wide=True,
            ),
            section(
                "attention",
                "Files needing attention",
                f"Rejected or duplicate files and files with quarantined records or unknown "
                f"fields, newest first (up to {LIST_LIMIT}).",
                table(fetch(ctx.con, ATTENTION_SQL), _attention_columns(), keys=(), sortable=True),
                wide=True,
            ),
        ]
    )


def _tiles(totals: Row, ctx: Context) -> list[Tile]:
    return [
        Tile("As-of date", ctx.as_of.isoformat(), "every figure is computed for this date",
             "Events after this date are not counted."),
        Tile("Files ingested", fmt.count(totals["loaded_files"]), f"of n = {fmt.count(totals['files'])} files seen",
             "Files whose records were loaded."),
        Tile("Duplicate files", fmt.count(totals["duplicate_files"]), "same bytes as an earlier file",
             "Loaded nothing; safe to ignore."),
        Tile("Rejected files", fmt.count(totals["rejected_files"]), "unreadable, or missing a column",
             "Nothing loaded from these files."),
        Tile("Records loaded", fmt.count(totals["rows_loaded"]), f"of n = {fmt.count(totals['rows_read'])} read",
             f"{fmt.count(totals['rows_duplicate'])} exact duplicates skipped."),
        Tile("Quarantined", fmt.count(totals["rows_quarantined"]), f"of n = {fmt.count(totals['rows_read'])} read",
             "Records set aside with a reason."),
        Tile("Last ingest", fmt.timestamp(totals["last_ingested_at"]),
             f"{fmt.count(totals['files_with_unknown_fields'])} files with unknown fields",
             "When the newest file was ingested."),
    ]  # fmt: skip


def _quarantine_chart(rows: list[Row]):
    if not any(row["quarantined"] for row in rows):
        return None
    return category_chart(
        rows,
        [
            Series(name, family, color)
            for (family, name), color in zip(REASON_FAMILIES.items(), PALETTE, strict=False)
        ],
        Axis("quarantined records", fmt.count, ",.0f"),
        barmode="stack",
        label=lambda row: fmt.esc(row["source"]),
        keys=(),
        detail=lambda row, _s: f"<br>{fmt.count(row['quarantined'])} quarantined in this source",
    )


def _freshness_rows(ctx: Context) -> list[Row]:
    records = {row["source"]: row for row in ctx.freshness}
    undated = {"newest_on": None, "age_days": None, "stale": None}
    return [{**row, **records.get(row["source"], undated)} for row in fetch(ctx.con, LAST_FILE_SQL)]


def _newest(row: Row) -> str:
    if row["source"] not in {"participants"} and row["stale"] is None:
        return '<span class="muted">not tracked</span>'
    if row["stale"] is None:
        return '<span class="muted">no record date</span>'
    return (
        fmt.date(row["newest_on"]) if row["newest_on"] else '<span class="muted">no records</span>'
    )


def _freshness_columns() -> list[Column]:
    return [
        Column("Source", lambda r: fmt.esc(r["source"])),
        Column("Newest record", _newest),
        Column(
            "Age at as-of date",
            lambda r: fmt.days(r["age_days"]) + (" · stale" if r["stale"] else ""),
            numeric=True,
            about="Days from the newest record to the as-of date.",
            warn=lambda r: bool(r["stale"]),
        ),
        Column("Last file", lambda r: (fmt.esc(r["path"]) if r["path"] else '<span class="muted">no file yet</span>')
               + (f"<small>loaded {fmt.timestamp(r['ingested_at'])} · {fmt.esc(r['status']).replace('_', ' ')}</small>"
                  if r["path"] else "")),
        Column("Files", lambda r: fmt.count(r["files"]), numeric=True),
    ]  # fmt: skip


def _quarantine_columns() -> list[Column]:
    return [
        Column("Source", lambda r: fmt.esc(r["source"]), lambda r: r["source"]),
        Column("File", lambda r: fmt.esc(r["path"]), lambda r: r["path"]),
        Column("Reason", lambda r: fmt.esc(r["reason"]), lambda r: r["reason"]),
        Column("Records", lambda r: fmt.count(r["records"]), lambda r: r["records"], numeric=True),
        Column("First line", lambda r: fmt.count(r["first_line"]), lambda r: r["first_line"], numeric=True),
        Column("Last seen", lambda r: fmt.timestamp(r["last_quarantined_at"]),
               lambda r: fmt.timestamp(r["last_quarantined_at"])),
    ]  # fmt: skip


def _attention_columns() -> list[Column]:
    return [
        Column("File", lambda r: fmt.esc(r["path"]), lambda r: r["path"]),
        Column("Source", lambda r: fmt.esc(r["source"]), lambda r: r["source"]),
        Column("Status", lambda r: fmt.esc(r["status"]).replace("_", " "), lambda r: r["status"]),
        Column("Read", lambda r: fmt.count(r["rows_read"]), lambda r: r["rows_read"], numeric=True),
        Column("Quarantined", lambda r: fmt.count(r["rows_quarantined"]), lambda r: r["rows_quarantined"],
               numeric=True),
        Column("Unknown fields", lambda r: fmt.count(r["unknown_fields"]), lambda r: r["unknown_fields"],
               numeric=True),
        Column("Message", lambda r: fmt.esc(r["message"]) if r["message"] else ""),
        Column("Ingested at", lambda r: fmt.timestamp(r["ingested_at"]), lambda r: fmt.timestamp(r["ingested_at"])),
    ]  # fmt: skip
