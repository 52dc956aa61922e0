"""Ingest assets: one thin asset per staging table (staging/<source>), all made by one factory.

A table's asset ingests its source's files and the tools' exports staged into it (survey
exports into responses, calendars into meetings); those read the roster, so come after it."""

import datetime as dt

import dagster as dg

from assets.ingest.contract import SOURCES, Source, sources_staging_into
from assets.ingest.expectations import ValidationOutcome, validate_batch
from assets.ingest.loader import FileResult, ingest_source
from assets.resources import WarehouseResource


def markdown_text(text: str) -> str:
    """Plain text as the UI's Markdown shows it: `*` not italics, `<name>` not an HTML tag."""
    for char in "\\*_`":
        text = text.replace(char, "\\" + char)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def staging_key(source: Source) -> dg.AssetKey:
    return dg.AssetKey(["staging", source.name])


# Files are validated in batches of about this many rows: memory stays bounded however many
# files a run loads, and GX's fixed cost per call (~0.1 s) is paid a few times, not per file.
GX_BATCH_ROWS = 250_000


def _validation_batches(results: list[FileResult]) -> list[list[FileResult]]:
    batches: list[list[FileResult]] = []
    rows = GX_BATCH_ROWS
    for result in (r for r in results if r.rows_loaded):
        if rows + result.rows_loaded > GX_BATCH_ROWS:
            batches.append([])
            rows = 0
        batches[-1].append(result)
        rows += result.rows_loaded
    return batches


def _loaded_rows(con, source: Source, load_ids: list[str]):
    columns = ", ".join(f'"{c.name}"' for c in source.columns)
    return con.sql(
        f"SELECT {columns} FROM staging.{source.name} WHERE _load_id IN (SELECT unnest($ids))",
        params={"ids": load_ids},
    ).pl()


def _freshness(con, source: Source, settings) -> dg.AssetCheckResult:
    newest = con.execute(
        "SELECT max(ingested_at) FROM ingest.files "
        "WHERE source IN (SELECT unnest(?)) AND status = 'loaded'",
        [[s.name for s in sources_staging_into(source.name)]],
    ).fetchall()[0][0]
    now = dt.datetime.now(dt.UTC)
    age_days = None if newest is None else (now - newest).total_seconds() / 86400
    return dg.AssetCheckResult(
        check_name="freshness",
        passed=age_days is not None and age_days <= settings.freshness_days,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "newest_file_ingested_at": str(newest),
            "age_days": round(age_days, 2) if age_days is not None else None,
            "allowed_days": settings.freshness_days,
        },
        description=f"A new {source.name} file lands at least every {settings.freshness_days} days.",
    )


# The quarantine check names this many quarantined lines (file, line, rule) in its metadata.
QUARANTINE_SHOWN = 10


def _quarantine_check(con, source: Source, results: list[FileResult]) -> dg.AssetCheckResult:
    """WARN when a file of this run had lines quarantined (or was rejected whole), naming the
    first few: the run is green, but someone has a file to fix."""
    load_ids = [
        r.load_id for r in results if r.load_id and (r.rows_quarantined or r.status == "rejected")
    ]
    lines = (
        con.execute(
            "SELECT path, line, reason, coalesce(detail, '') FROM ingest.quarantine "
            "WHERE load_id IN (SELECT unnest(?)) ORDER BY path, line NULLS FIRST LIMIT ?",
            [load_ids, QUARANTINE_SHOWN],
        ).fetchall()
        if load_ids
        else []
    )
    files = [r for r in results if r.rows_quarantined or r.status == "rejected"]
    quarantined = sum(r.rows_quarantined for r in results)
    shown = [
        f"- landing/{path}"
        + (f" line {line}" if line is not None else "")
        + f": {reason}"
        + (f" ({detail[:120]})" if detail else "")
        for path, line, reason, detail in lines
    ]
    if quarantined > len(lines):
        shown.append(f"- … {quarantined - len(lines)} more in ingest.quarantine")
    return dg.AssetCheckResult(
        check_name="quarantined_lines",
        passed=not files,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "files_with_quarantine": len(files),
            "lines_quarantined": quarantined,
            "files_rejected": sum(r.status == "rejected" for r in results),
            "first_lines": dg.MetadataValue.md("\n".join(shown) or "none"),
        },
        description=(
            f"{quarantined} line(s) of {len(files)} file(s) quarantined in this run: "
            + "; ".join(s[2:] for s in shown[:3])
            if files
            else "No line of this run's files was quarantined."
        ),
    )


def build_ingest_asset(source: Source) -> dg.AssetsDefinition:
    feeding = sources_staging_into(source.name)
    files = ", ".join(f"landing/{s.folder}/{'|'.join(s.patterns)}" for s in feeding)
    reads_roster = any(s.adapter for s in feeding)

    @dg.asset(
        key=staging_key(source),
        group_name="ingest",
        deps=[staging_key(SOURCES[name]) for name in ("participants", "matches")]
        if reads_roster
        else [],
        description=markdown_text(
            f"Ingest {files}: "
            f"{source.description} Validated, de-duplicated, bad records quarantined."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                "contract_expectations",
                asset=staging_key(source),
                blocking=True,
                description="Great Expectations suite of the contract over the rows loaded.",
            ),
            dg.AssetCheckSpec(
                "quarantined_lines",
                asset=staging_key(source),
                description="Warns when a file of the run had lines quarantined (or was "
                "rejected whole), naming file, line and rule for the first few.",
            ),
            dg.AssetCheckSpec(
                "freshness",
                asset=staging_key(source),
                description="Warns when no new file has landed for MENTORPULSE_FRESHNESS_DAYS.",
            ),
        ],
        kinds={"duckdb", "polars"},
    )
    def ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        settings = warehouse.settings()
        with warehouse.connect() as con:
            results = [
                result
                for landing_source in feeding
                for result in ingest_source(
                    con,
                    landing_source,
                    settings.landing_dir,
                    log=context.log.info,
                    run_id=context.run.run_id,
                    batch_records=settings.ingest_batch_records,
                )
            ]
            outcome = ValidationOutcome.combined(
                [
                    validate_batch(
                        source,
                        _loaded_rows(con, source, [r.load_id for r in batch]),
                        label=", ".join(r.path for r in batch),
                    )
                    for batch in _validation_batches(results)
                ]
            )
            freshness = _freshness(con, source, settings)
            quarantine = _quarantine_check(con, source, results)
            (row_count,) = con.execute(f"SELECT count(*) FROM staging.{source.name}").fetchone()
        for result in results:
            # A loaded file can warn too (e.g. an export's mapped item with no answer anywhere).
            if result.status == "rejected" or "warning: " in (result.message or ""):
                context.log.warning(result.summary())
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": row_count,
                "files": len(results),
                "rows_read": sum(r.rows_read for r in results),
                "rows_loaded": sum(r.rows_loaded for r in results),
                "rows_duplicate": sum(r.rows_duplicate for r in results),
                "rows_quarantined": sum(r.rows_quarantined for r in results),
                "files_rejected": sum(r.status == "rejected" for r in results),
                "files_duplicate": sum(r.status == "duplicate_file" for r in results),
                "per_file": dg.MetadataValue.md(
                    "\n".join(f"- {r.summary()}" for r in results) or "no new files"
                ),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="contract_expectations",
                    passed=outcome.success,
                    metadata=outcome.as_metadata(),
                ),
                quarantine,
                freshness,
            ],
        )

    return ingest


INGEST_ASSETS = [build_ingest_asset(source) for source in SOURCES.values()]
