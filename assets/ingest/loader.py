"""One generic, contract-driven loader for all six file kinds (and tools' exports, which an
adapter first turns into the records of one of them).

Files are loaded in batches (file-name order, bounded by a record and byte budget): per batch,
one transaction writes the staging rows (typed, with lineage), the quarantined records and
each file's ingest.files row, so a crash mid-batch leaves no trace and the next run loads its
files whole. Python reads, hashes and parses each file; validation and de-duplication are
set-based SQL over all the batch's records, each tagged with its file.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import polars as pl

from assets.ingest.contract import SOURCES, Column, Source
from assets.ingest.exports import read_export
from assets.ingest.files import (
    FileProblem,
    LandedFile,
    ParsedFile,
    decode,
    discover,
    parse,
    sha256_of,
)
from assets.ingest.validation import ident, literal, reason_columns, typed_value

INGEST_TABLES_SQL = Path(__file__).with_name("ingest_tables.sql")
LINEAGE_COLUMNS = (
    ("_source_path", "VARCHAR"),
    ("_file_name", "VARCHAR"),
    ("_line", "BIGINT"),
    ("_sha256", "VARCHAR"),
    ("_load_id", "VARCHAR"),
    ("_ingested_at", "TIMESTAMPTZ"),
    ("_record_hash", "VARCHAR"),
    ("_source", "VARCHAR"),  # the landing source that loaded the row (e.g. calendar)
)


@dataclass
class FileResult:
    """What happened to one file; mirrors its ingest.files row."""

    path: str
    source: str
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    message: str | None = None
    reasons: Counter = field(default_factory=Counter)
    load_id: str | None = None

    def summary(self) -> str:
        text = (
            f"{self.path}: {self.status} — read {self.rows_read}, loaded {self.rows_loaded}, "
            f"duplicate {self.rows_duplicate}, quarantined {self.rows_quarantined}"
        )
        if self.reasons:
            text += " (" + ", ".join(f"{r}: {n}" for r, n in sorted(self.reasons.items())) + ")"
        if self.message:
            text += f" — {self.message}"
        return text


# --- tables -----------------------------------------------------------------------------


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(INGEST_TABLES_SQL.read_text())
    existing = set(
        con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = 'staging'"
        ).fetchall()
    )
    for source in SOURCES.values():
        columns = [f"{ident(c.name)} {c.sql_type}" for c in source.columns]
        columns += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS]
        con.execute(f"CREATE TABLE IF NOT EXISTS staging.{source.name} ({', '.join(columns)})")
        for name, sql_type in LINEAGE_COLUMNS:  # lineage added since the table was made
            if (source.name, name) not in existing:
                con.execute(
                    f"ALTER TABLE staging.{source.name} ADD COLUMN IF NOT EXISTS {name} {sql_type}"
                )


# --- which files are new ----------------------------------------------------------------


def pending_files(con: duckdb.DuckDBPyConnection, landing_dir: Path, source: Source):
    """Files not yet recorded, or recorded with another size or mtime (to be re-checked)."""
    known = {
        path: (size, mtime)
        for path, size, mtime in con.execute(
            "SELECT path, bytes, file_mtime_ns FROM ingest.files WHERE source = ? "
            "QUALIFY row_number() OVER (PARTITION BY path ORDER BY ingested_at DESC) = 1",
            [source.name],
        ).fetchall()
    }
    return [
        f for f in discover(landing_dir, source) if known.get(f.relative_path) != f.stat_signature()
    ]


# A batch of files is loaded in one transaction, by a few statements over all its records.
# These budgets bound a batch's memory (its files' bytes, parsed records and working table)
# whatever the number of files; a file larger than the budget is a batch of its own.
BATCH_RECORDS = 200_000
BATCH_BYTES = 64 * 1024 * 1024


def ingest_source(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    landing_dir: Path,
    log: Callable[[str], None] = print,
    run_id: str | None = None,
    batch_records: int | None = None,
) -> list[FileResult]:
    """Ingest every new file of one source, in file-name order, in batches: each batch of
    files is one transaction, so a crash leaves no partial file (nor a partial batch).

    `run_id` (the Dagster run's) is recorded on each ingest.files row: what this run did.
    `batch_records` (MENTORPULSE_INGEST_BATCH_RECORDS) caps a batch's records."""
    ensure_tables(con)
    files = pending_files(con, landing_dir, source)
    results = []
    start = 0
    while start < len(files):
        batch, start = _in_transaction(
            con,
            functools.partial(
                _ingest_batch, con, files, start, run_id, batch_records or BATCH_RECORDS
            ),
        )
        for number, result in batch:
            results.append(result)
            log(f"[{source.name} {number}/{len(files)}] {result.summary()}")
    return results


def ingest_file(
    con: duckdb.DuckDBPyConnection, landed: LandedFile, run_id: str | None = None
) -> FileResult | None:
    """Ingest one file atomically; None when it is a file already ingested unchanged (or
    one removed since it was found: there is nothing to record)."""
    batch, _ = _in_transaction(
        con, functools.partial(_ingest_batch, con, [landed], 0, run_id, BATCH_RECORDS)
    )
    return batch[0][1] if batch else None


def _in_transaction(con, work: Callable[[], object]):
    con.execute("BEGIN TRANSACTION")
    try:
        result = work()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


def _ingest_batch(con, files: list[LandedFile], start: int, run_id: str | None, batch_records: int):
    """Read files from `start` until the batch's budget is spent, load them together.

    Returns ((number, result) of each file recorded, in file order; where the next batch
    starts). Loads of one batch share a format (a source may mix CSV and JSONL files)."""
    outcomes: list[tuple[int, FileResult | _Load]] = []
    delivered: dict[str, str] = {}  # sha256 → path of a file of this batch that counts as ingested
    records = size = 0
    batch_format = None
    position = start
    while position < len(files) and records < batch_records and size < BATCH_BYTES:
        landed = files[position]
        if batch_format not in (None, landed.format):
            break
        position += 1
        outcome = _prepare(con, landed, run_id, delivered)
        if outcome is None:
            continue
        if isinstance(outcome, _Load):
            batch_format = landed.format
            if not outcome.missing:  # a file rejected whole never counts as ingested
                delivered.setdefault(outcome.sha256, landed.relative_path)
            records += outcome.parsed.frame.height
            size += outcome.size
        outcomes.append((position, outcome))
    loads = [o for _, o in outcomes if isinstance(o, _Load)]
    if loads:
        _load_batch(con, loads)
    return [
        (
            number,
            outcome.record_file(con, outcome.result) if isinstance(outcome, _Load) else outcome,
        )
        for number, outcome in outcomes
    ], position


def _prepare(con, landed: LandedFile, run_id, delivered: dict[str, str]):
    """Read and parse one file: None (nothing to record), a FileResult already recorded (the
    file is rejected whole or a duplicate_file), or a _Load whose records wait for the batch."""
    try:
        _, mtime_ns = landed.stat_signature()
        data = landed.read_bytes()
    except FileNotFoundError:
        return None
    except FileProblem as problem:  # not a regular file: rejected unopened, no bytes, no hash
        return _Load(landed, None, 0, mtime_ns, run_id).reject(con, problem)
    digest = sha256_of(data)
    # A file rejected whole loaded nothing, so it never counts as ingested: the same bytes
    # under a new name (or after a fix of its mapping, once touched) are read again.
    earlier = con.execute(
        "SELECT path, sha256 FROM ingest.files WHERE (sha256 = ? OR path = ?) "
        "AND status <> 'rejected' ORDER BY (path = ?) DESC, ingested_at LIMIT 1",
        [digest, landed.relative_path, landed.relative_path],
    ).fetchall()
    earlier = earlier[0] if earlier else None
    if earlier is None and digest in delivered:  # an earlier file of this batch
        earlier = (delivered[digest], digest)
    if earlier == (landed.relative_path, digest):
        _touch_mtime(con, landed, digest, mtime_ns)
        return None
    load = _Load(landed, digest, len(data), mtime_ns, run_id)
    if earlier is not None and earlier[0] == landed.relative_path:
        return load.reject(
            con,
            FileProblem(
                "file:changed_after_ingest",
                "the file's bytes changed after it was ingested; landed files are "
                "immutable — land new content under a new name",
            ),
        )
    if earlier is not None:
        return load.record_file(
            con,
            FileResult(
                landed.relative_path,
                landed.source.name,
                "duplicate_file",
                message=f"same bytes as {earlier[0]}, already ingested: nothing loaded",
            ),
        )
    try:
        if landed.source.adapter:
            load.parsed = read_export(con, landed, data)
        else:
            load.parsed = parse(landed, decode(data))
    except FileProblem as problem:
        return load.reject(con, problem)
    load.check_header()
    return load


def _touch_mtime(con, landed: LandedFile, digest: str, mtime_ns: int) -> None:
    """Same path, same bytes, new mtime (e.g. touched): remember it so it is not re-hashed."""
    con.execute(
        "UPDATE ingest.files SET file_mtime_ns = ? WHERE path = ? AND sha256 = ?",
        [mtime_ns, landed.relative_path, digest],
    )


@dataclass
class _Load:
    landed: LandedFile
    sha256: str | None  # None: the file was never opened (file:not_regular)
    size: int
    mtime_ns: int
    run_id: str | None = None
    load_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    parsed: ParsedFile | None = None
    missing: list[str] = field(default_factory=list)  # required columns the CSV header lacks
    unknown_fields: list[str] = field(default_factory=list)  # known once the file is parsed
    result: FileResult | None = None  # set by the batch's load

    @property
    def source(self) -> Source:
        return self.landed.source

    @property
    def is_csv(self) -> bool:
        return self.landed.format != "jsonl"

    def check_header(self) -> None:
        """Header-level facts of a parsed file: a CSV header's missing and unknown columns
        (a JSON record lacking a field is one bad record; its unknown keys come from SQL)."""
        if self.is_csv:
            header = self.parsed.header
            self.missing = [c.name for c in self.source.required_columns if c.name not in header]
            self.unknown_fields = [
                name for name in header if name and name not in _names(self.source)
            ] + list(self.parsed.unmapped)

    def record_file(self, con, result: FileResult) -> FileResult:
        result.load_id = self.load_id
        con.execute(
            "INSERT INTO ingest.files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                result.path,
                result.source,
                self.sha256,
                self.size,
                result.rows_read,
                result.rows_loaded,
                result.rows_duplicate,
                result.rows_quarantined,
                result.status,
                self.at,
                self.load_id,
                len(self.unknown_fields),
                _listed_field_names(self.unknown_fields, self.landed.format == "jsonl"),
                result.message,
                self.mtime_ns,
                self.run_id,
            ],
        )
        return result

    def reject(self, con, problem: FileProblem) -> FileResult:
        """A whole file that cannot be read: one file-level quarantine row, status rejected."""
        con.execute(
            "INSERT INTO ingest.quarantine VALUES (?, ?, ?, NULL, ?, ?, ?, ?)",
            [
                self.source.name,
                self.landed.relative_path,
                problem.line,
                problem.reason,
                str(problem),
                self.at,
                self.load_id,
            ],
        )
        message = f"rejected by rule {problem.reason}: {problem}"
        return self.record_file(
            con,
            FileResult(self.landed.relative_path, self.source.name, "rejected", message=message),
        )

    def finish(self, counts: dict[str, int], reasons: Counter, displaced: int = 0) -> None:
        missing = self.missing
        note = self.parsed.note
        if displaced:
            note = "; ".join(
                filter(
                    None,
                    [
                        note,
                        f"{displaced} record(s) took the place of other content loaded "
                        "before from a file later in file-name order (quarantined there as "
                        "conflicting_duplicate)",
                    ],
                )
            )
        self.result = FileResult(
            self.landed.relative_path,
            self.source.name,
            "rejected" if missing else "loaded",
            rows_read=sum(counts.values()),
            rows_loaded=counts.get("load", 0),
            rows_duplicate=counts.get("duplicate", 0),
            rows_quarantined=sum(reasons.values()),
            reasons=reasons,
            message=(
                f"rejected by rule schema:missing_column:{missing[0]}: header lacks "
                + ", ".join(missing)
                if missing
                else note
            ),
        )


# --- a batch of files, set-based ----------------------------------------------------------


def _load_batch(con, loads: list[_Load]) -> None:
    """Validate, de-duplicate and write the records of all the batch's files at once.

    Each record keeps its file (`_file`, the file's place in the batch) and `_record` (its
    place in the batch: by file, then by record), so the first delivery of a key wins as if
    the files were loaded one by one."""
    source = loads[0].source
    is_csv = loads[0].is_csv
    frame = pl.concat(
        [load.parsed.frame.with_columns(_file=pl.lit(n, pl.Int64)) for n, load in enumerate(loads)],
        how="diagonal_relaxed",
    ).with_row_index("_record")
    for load in loads:  # the batch's frame holds the records now: free each file's copy
        load.parsed = replace(load.parsed, frame=pl.DataFrame())
    con.register("frame", frame)
    con.register(
        "_batch_files",
        pl.DataFrame(
            {
                "_file": range(len(loads)),
                "path": [load.landed.relative_path for load in loads],
                "file_name": [load.landed.path.name for load in loads],
                "sha256": [load.sha256 for load in loads],
                "load_id": [load.load_id for load in loads],
                "at": [load.at for load in loads],
                # A file whose header lacks a required column: every record is quarantined.
                "missing_reason": [
                    f"schema:missing_column:{load.missing[0]}" if load.missing else None
                    for load in loads
                ],
                "missing_detail": [
                    "the header lacks required column(s): " + ", ".join(load.missing)
                    if load.missing
                    else None
                    for load in loads
                ],
            },
            schema_overrides={
                "_file": pl.Int64,
                "missing_reason": pl.String,
                "missing_detail": pl.String,
            },
        ),
    )
    try:
        if is_csv:
            header = {name for load in loads for name in load.parsed.header}
            extraction = _csv_extraction(source, header)
        else:
            extraction = _json_extraction(source)
        reasoned = _file_reasons(_validated(source, extraction), "_export_reason" in frame.columns)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _batch AS {_classified(source, reasoned)}")
        if not is_csv:
            for n, names in _json_unknown_fields(con, source).items():
                loads[n].unknown_fields = names
        displaced = _displace(con, source)
        con.execute(_staging_insert(source))
        # The record's text stays in the restricted schema (`mentorpulse quarantine show`);
        # ingest.quarantine, which is published, never holds it.
        con.execute(
            "INSERT INTO ingest.quarantine "
            "SELECT ?, f.path, b._line, NULL, b._reason, b._detail, f.at, f.load_id "
            "FROM _batch b JOIN _batch_files f USING (_file) "
            "WHERE b._reason IS NOT NULL ORDER BY b._file, b._line",
            [source.name],
        )
        con.execute(
            "INSERT INTO restricted.quarantine_raw "
            "SELECT f.load_id, b._line, any_value(b._raw ORDER BY b._record) "
            "FROM _batch b JOIN _batch_files f USING (_file) WHERE b._reason IS NOT NULL "
            "GROUP BY b._file, f.load_id, b._line ORDER BY b._file, b._line"
        )
        counts = [dict() for _ in loads]
        for n, outcome, count in con.execute(
            "SELECT _file, coalesce(_outcome, 'quarantined'), count(*) FROM _batch GROUP BY ALL"
        ).fetchall():
            counts[n][outcome] = count
        reasons = [Counter() for _ in loads]
        for n, reason, count in con.execute(
            "SELECT _file, _reason, count(*) FROM _batch WHERE _reason IS NOT NULL GROUP BY ALL"
        ).fetchall():
            reasons[n][reason] = count
        for n, load in enumerate(loads):
            load.finish(counts[n], reasons[n], displaced.get(n, 0))
    finally:
        con.execute("DROP TABLE IF EXISTS _batch")
        con.unregister("frame")
        con.unregister("_batch_files")


def _displace(con, source: Source) -> dict[int, int]:
    """Staging rows that give way to a record of a late file earlier in file-name order:
    moved to quarantine (conflicting_duplicate) under their own file's load, whose counts
    follow, so the result is the one the files give in name order, whenever they arrive.
    Returns, per file of the batch, how many records it displaced."""
    join = " AND ".join(f"s.{ident(k)} = b.{ident(k + '__value')}" for k in source.key)
    key_names = literal(", ".join(source.key))
    content = ", ".join(f"{ident(c.name)} := s.{ident(c.name)}" for c in source.columns)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _displaced AS
            SELECT s.rowid AS staging_row, s._load_id AS load_id, s._source_path AS path,
                s._line AS line, b._file,
                {key_names} || ' loaded later from ' || f.path || ' line ' || b._line
                    || ', which comes first in file-name order, with different content'
                    AS detail,
                to_json(struct_pack({content}))::VARCHAR AS record
            FROM _batch b JOIN _batch_files f USING (_file)
            JOIN staging.{source.table} s ON {join}
            WHERE b._displaces"""
    )
    con.execute(
        "INSERT INTO ingest.quarantine SELECT ?, path, line, NULL, 'conflicting_duplicate', "
        "detail, now(), load_id FROM _displaced ORDER BY path, line",
        [source.name],
    )
    # The landed line is not kept for a loaded record: its text is the record as loaded.
    con.execute(
        "INSERT INTO restricted.quarantine_raw SELECT load_id, line, record FROM _displaced"
    )
    con.execute(
        "UPDATE ingest.files SET rows_loaded = rows_loaded - d.n, "
        "rows_quarantined = rows_quarantined + d.n "
        "FROM (SELECT load_id, count(*) AS n FROM _displaced GROUP BY ALL) d "
        "WHERE ingest.files.load_id = d.load_id"
    )
    con.execute(
        f"DELETE FROM staging.{source.table} WHERE rowid IN (SELECT staging_row FROM _displaced)"
    )
    counts = dict(con.execute("SELECT _file, count(*) FROM _displaced GROUP BY ALL").fetchall())
    con.execute("DROP TABLE _displaced")
    return counts


def _file_reasons(validated: str, from_export: bool) -> str:
    """The rules' reason of each record, overridden by its file's (a missing column) and,
    above both, by an export adapter's (a preview response, a respondent not in the roster)."""
    export = "x._export_reason IS NOT NULL" if from_export else "FALSE"
    join = "LEFT JOIN frame x USING (_record)" if from_export else ""
    reason = "x._export_reason" if from_export else "NULL"
    detail = "x._export_detail" if from_export else "NULL"
    return f"""
        SELECT v.* REPLACE (
            CASE WHEN {export} THEN {reason} WHEN f.missing_reason IS NOT NULL
                 THEN f.missing_reason ELSE v._reason END AS _reason,
            CASE WHEN {export} THEN {detail} WHEN f.missing_reason IS NOT NULL
                 THEN f.missing_detail ELSE v._detail END AS _detail)
        FROM ({validated}) v JOIN _batch_files f USING (_file) {join}
    """


def _classified(source: Source, reasoned: str) -> str:
    """Records with `_outcome` (load / duplicate) on valid ones; conflicts become quarantined.

    A record whose key was loaded before, or appears earlier in the batch, is an exact
    duplicate when its content hash matches, a conflicting_duplicate otherwise. The first
    record of a key in the batch is the one loaded: a later file of the batch is told it was
    "already loaded from" that file, as it would be had the files been loaded one by one.
    """
    if source.duplicates == "replace":
        return (
            f"SELECT *, CASE WHEN _reason IS NULL THEN 'load' END AS _outcome, "
            f"false AS _displaces FROM ({reasoned})"
        )
    keys = ", ".join(ident(k + "__value") for k in source.key)
    join = " AND ".join(f"s.{ident(k)} = r.{ident(k + '__value')}" for k in source.key)
    key_names = literal(", ".join(source.key))
    return f"""
        WITH v AS MATERIALIZED ({reasoned}),
        ranked AS (
            SELECT _record, _file, _record_hash, {keys},
                   row_number() OVER w AS nth,
                   first(_record_hash) OVER w AS first_hash,
                   first(_line) OVER w AS first_line,
                   first(_file) OVER w AS first_file
            FROM v WHERE _reason IS NULL
            WINDOW w AS (PARTITION BY {keys} ORDER BY _record
                         ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        ),
        c AS (
            SELECT r._record,
                -- Files apply in file-name order: a key loaded from a file that comes later
                -- in that order than this record's (a late file) gives way to it.
                s._record_hash IS NOT NULL AND r.nth = 1 AND s._record_hash <> r._record_hash
                    AND (s._file_name, s._source_path) > (this.file_name, this.path)
                    AS displaces,
                CASE WHEN displaces THEN 'load'
                     WHEN s._record_hash IS NOT NULL OR r.nth > 1 THEN 'duplicate'
                     ELSE 'load' END AS outcome,
                CASE
                    WHEN displaces THEN NULL
                    WHEN s._record_hash IS NOT NULL AND s._record_hash <> r._record_hash
                        THEN {key_names} || ' already loaded from ' || s._source_path
                             || ' line ' || s._line || ' with different content'
                    WHEN s._record_hash IS NOT NULL OR r.nth = 1
                         OR r._record_hash = r.first_hash
                        THEN NULL
                    WHEN r._file <> r.first_file
                        THEN {key_names} || ' already loaded from ' || f.path
                             || ' line ' || r.first_line || ' with different content'
                    ELSE 'same ' || {key_names} || ' as line ' || r.first_line
                         || ' of this file, with different content'
                END AS conflict_detail
            FROM ranked r
            LEFT JOIN staging.{source.table} s ON {join}
            LEFT JOIN _batch_files f ON f._file = r.first_file
            JOIN _batch_files this ON this._file = r._file
        )
        SELECT v.* REPLACE (
                CASE WHEN c.conflict_detail IS NOT NULL THEN 'conflicting_duplicate'
                     ELSE v._reason END AS _reason,
                coalesce(c.conflict_detail, v._detail) AS _detail),
            CASE WHEN c.conflict_detail IS NULL THEN c.outcome END AS _outcome,
            coalesce(c.displaces, false) AS _displaces
        FROM v LEFT JOIN c USING (_record)
    """


def _staging_insert(source: Source) -> str:
    names = [ident(c.name) for c in source.columns] + [n for n, _ in LINEAGE_COLUMNS]
    values = [f"b.{ident(c.name + '__value')}" for c in source.columns] + [
        "f.path",
        "f.file_name",
        "b._line",
        "f.sha256",
        "f.load_id",
        "f.at",
        "b._record_hash",
        literal(source.name),
    ]
    return (
        f"INSERT INTO staging.{source.table} ({', '.join(names)}) "
        f"SELECT {', '.join(values)} FROM _batch b JOIN _batch_files f USING (_file) "
        "WHERE b._outcome = 'load' ORDER BY b._file, b._line, b._record"
    )


def _names(source: Source) -> set[str]:
    return {c.name for c in source.columns}


# --- SQL generated from the contract ----------------------------------------------------


def _normalised(column: Column, expr: str) -> str:
    """Blank means absent; surrounding spaces are dropped except in free text."""
    return f"NULLIF({expr}, '')" if column.type == "text" else f"NULLIF(trim({expr}), '')"


def _json_extraction(source: Source) -> str:
    """JSONL records: each field's text, and whether its JSON type fits the contract.

    Every field's text and JSON type come from one call each with a list of paths, so a record
    is parsed twice, not twice per field.
    """
    json_types = {
        "integer": "('BIGINT', 'UBIGINT', 'DOUBLE')",
        "number": "('BIGINT', 'UBIGINT', 'DOUBLE')",
        "string_list": "('ARRAY')",
    }
    paths = "[" + ", ".join(literal(f"$.{c.name}") for c in source.columns) + "]"
    fields = []
    for position, column in enumerate(source.columns, start=1):
        jtype = f"_types[{position}]"
        allowed = json_types.get(column.type, "('VARCHAR')")
        type_ok = f"coalesce({jtype} IN {allowed} OR {jtype} = 'NULL', TRUE)"
        if column.type == "string_list":
            elements = literal(f"$.{column.name}[*]")
            type_ok = (
                f"({type_ok} AND coalesce(list_bool_and(list_transform("
                f"json_type(_obj, {elements}), lambda t: t = 'VARCHAR')), TRUE))"
            )
            fields.append(
                f"json_extract_string(_obj, {elements}) AS {ident(column.name + '__list')}"
            )
        fields.append(f"{_normalised(column, f'_texts[{position}]')} AS {ident(column.name)}")
        fields.append(f"{type_ok} AS {ident(column.name + '__jtype_ok')}")
    return f"""
        WITH doc AS (
            SELECT _record, _file, _line, _raw,
                CASE WHEN json_valid(_raw) THEN _raw::JSON END AS _json
            FROM frame
        ), obj AS (
            SELECT *, CASE WHEN json_type(_json) = 'OBJECT' THEN _json END AS _obj FROM doc
        ), fields AS (
            SELECT *,
                json_extract_string(_obj, {paths}) AS _texts,
                json_type(_obj, {paths}) AS _types
            FROM obj
        )
        SELECT _record, _file, _line, _raw, _obj,
            _obj IS NULL AS _malformed,
            CASE WHEN _json IS NULL THEN 'not valid JSON'
                 WHEN _obj IS NULL THEN 'a JSON ' || lower(json_type(_json)) || ', not an object'
            END AS _malformed_detail,
            {", ".join(fields)}
        FROM fields
    """


def _csv_extraction(source: Source, header: set[str]) -> str:
    """CSV records: each contract column's text (NULL when no header of the batch has it;
    a file whose header lacks a column others have gets NULL there too)."""
    fields = []
    for column in source.columns:
        raw = ident(column.name) if column.name in header else "NULL::VARCHAR"
        fields.append(f"{_normalised(column, raw)} AS {ident(column.name)}")
        fields.append(f"TRUE AS {ident(column.name + '__jtype_ok')}")
        if column.type == "string_list":
            # In CSV a list is written as values separated by semicolons.
            fields.append(
                f"list_filter(list_transform(string_split({raw}, ';'), lambda x: trim(x)), "
                f"lambda x: x <> '') AS {ident(column.name + '__list')}"
            )
    return f"""
        SELECT _record, _file, _line, _raw, NULL::JSON AS _obj, _malformed, _malformed_detail,
            {", ".join(fields)}
        FROM frame
    """


def _validated(source: Source, extraction: str) -> str:
    """Typed values, type checks, the reason for each record and its content hash."""
    typed = []
    for column in source.columns:
        name = ident(column.name)
        value = typed_value(column, name, ident(column.name + "__list"))
        typed.append(f"{value} AS {ident(column.name + '__value')}")
        typed.append(
            f"({name} IS NULL OR ({ident(column.name + '__jtype_ok')} AND {value} IS NOT NULL))"
            f" AS {ident(column.name + '__type_ok')}"
        )
    content = ", ".join(f"{ident(c.name)} := {ident(c.name + '__value')}" for c in source.columns)
    return f"""
        WITH extracted AS ({extraction}),
        typed AS (SELECT *, {", ".join(typed)} FROM extracted)
        SELECT *, {reason_columns(source)},
            md5(CAST(struct_pack({content}) AS VARCHAR)) AS _record_hash
        FROM typed
    """


def _json_unknown_fields(con, source: Source) -> dict[int, list[str]]:
    """Per file of the batch, the keys of its JSON records that are not contract fields."""
    found: dict[int, list[str]] = {}
    for n, key in con.execute(
        "SELECT DISTINCT _file, unnest(json_keys(_obj)) AS k FROM _batch "
        "WHERE _obj IS NOT NULL ORDER BY _file, k"
    ).fetchall():
        if key not in _names(source):
            found.setdefault(n, []).append(key)
    return found


# --- reading the quarantine back (restricted) -------------------------------------------


def quarantined_records(con: duckdb.DuckDBPyConnection, path: str, line: int) -> list[tuple]:
    """(quarantined_at, rule, detail, record text) of each quarantined record at `line` of the
    landed file `path` (relative to landing/), oldest first; the text only where kept."""
    return con.execute(
        "SELECT q.quarantined_at, q.reason, q.detail, r.raw_text FROM ingest.quarantine q "
        "LEFT JOIN restricted.quarantine_raw r ON r.load_id = q.load_id AND r.line = q.line "
        "WHERE q.path = ? AND q.line = ? ORDER BY q.quarantined_at, q.reason",
        [path, line],
    ).fetchall()


def quarantine_summary(con: duckdb.DuckDBPyConnection, path: str) -> list[tuple]:
    """(line, rule) of every quarantine row of `path`, for a hint when a line has none."""
    return con.execute(
        "SELECT DISTINCT line, reason FROM ingest.quarantine WHERE path = ? ORDER BY line",
        [path],
    ).fetchall()


_JSON_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")


def _listed_field_names(names: list[str], from_json: bool) -> str | None:
    """Unknown field names as ingest.files (published) lists them. A file's own keys are
    free text too: one holding an `@` (an e-mail used as a key), or a JSON key that is not a
    plain identifier, is counted but not listed."""
    listed = [
        name
        for name in names
        if "@" not in name and (not from_json or _JSON_FIELD_NAME.fullmatch(name))
    ]
    hidden = len(names) - len(listed)
    if hidden:
        listed.append(f"({hidden} more not shown: they may hold personal data)")
    return ", ".join(listed) or None
