"""One generic, contract-driven loader for all six file kinds (and tools' exports, which an
adapter first turns into the records of one of them).

Per file, one transaction writes the staging rows (typed, with lineage), the quarantined
records and the ingest.files row, so a crash mid-file leaves no trace and the next run loads
the file whole. Validation and de-duplication are set-based SQL over the whole file.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

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
    for source in SOURCES.values():
        columns = [f"{ident(c.name)} {c.sql_type}" for c in source.columns]
        columns += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS]
        con.execute(f"CREATE TABLE IF NOT EXISTS staging.{source.name} ({', '.join(columns)})")
        for name, sql_type in LINEAGE_COLUMNS:  # lineage added since the table was made
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


def ingest_source(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    landing_dir: Path,
    log: Callable[[str], None] = print,
    run_id: str | None = None,
) -> list[FileResult]:
    """Ingest every new file of one source, in file-name order, one transaction per file.

    `run_id` (the Dagster run's) is recorded on each ingest.files row: what this run did."""
    ensure_tables(con)
    files = pending_files(con, landing_dir, source)
    results = []
    for number, landed in enumerate(files, start=1):
        result = ingest_file(con, landed, run_id)
        if result is not None:
            results.append(result)
            log(f"[{source.name} {number}/{len(files)}] {result.summary()}")
    return results


# --- one file ---------------------------------------------------------------------------


def ingest_file(
    con: duckdb.DuckDBPyConnection, landed: LandedFile, run_id: str | None = None
) -> FileResult | None:
    """Ingest one file atomically; None when it is a file already ingested unchanged (or
    one removed since it was found: there is nothing to record)."""
    try:
        _, mtime_ns = landed.stat_signature()
        data = landed.read_bytes()
    except FileNotFoundError:
        return None
    except FileProblem as problem:  # not a regular file: rejected unopened, no bytes, no hash
        unread = _Load(landed, None, 0, mtime_ns, run_id)
        return _in_transaction(con, functools.partial(unread.reject, con, problem))
    digest = sha256_of(data)
    # A file rejected whole loaded nothing, so it never counts as ingested: the same bytes
    # under a new name (or after a fix of its mapping, once touched) are read again.
    earlier = con.execute(
        "SELECT path, sha256 FROM ingest.files WHERE (sha256 = ? OR path = ?) "
        "AND status <> 'rejected' ORDER BY (path = ?) DESC, ingested_at LIMIT 1",
        [digest, landed.relative_path, landed.relative_path],
    ).fetchall()
    earlier = earlier[0] if earlier else None
    if earlier == (landed.relative_path, digest):
        _touch_mtime(con, landed, digest, mtime_ns)
        return None

    load = _Load(landed, digest, len(data), mtime_ns, run_id)

    def ingest() -> FileResult:
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
                parsed = read_export(con, landed, data)
            else:
                parsed = parse(landed, decode(data))
        except FileProblem as problem:
            return load.reject(con, problem)
        return load.load(con, parsed)

    return _in_transaction(con, ingest)


def _in_transaction(con, work: Callable[[], FileResult]) -> FileResult:
    con.execute("BEGIN TRANSACTION")
    try:
        result = work()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


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
    unknown_fields: list[str] = field(default_factory=list)  # known once the file is parsed

    @property
    def source(self) -> Source:
        return self.landed.source

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

    def load(self, con, parsed: ParsedFile) -> FileResult:
        # _record tells records apart (the occurrences of one calendar series share a line)
        con.register("frame", parsed.frame.with_row_index("_record"))
        is_csv = self.landed.format != "jsonl"
        # Only a CSV header can lack a column; a JSON record lacking a field is one bad record.
        missing = [
            c.name for c in self.source.required_columns if is_csv and c.name not in parsed.header
        ]
        if is_csv:
            self.unknown_fields = [
                name for name in parsed.header if name and name not in _names(self.source)
            ] + list(parsed.unmapped)
            extraction = _csv_extraction(self.source, parsed.header)
        else:
            extraction = _json_extraction(self.source)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _batch AS {_validated(self.source, extraction)}")
        if not is_csv:
            self.unknown_fields = _json_unknown_fields(con, self.source)
        if missing:
            # The file lacks a required column: every record is quarantined under that rule.
            con.execute(
                "UPDATE _batch SET _reason = ?, _detail = ?",
                [
                    f"schema:missing_column:{missing[0]}",
                    "the header lacks required column(s): " + ", ".join(missing),
                ],
            )
        if "_export_reason" in parsed.frame.columns:
            con.execute(
                "UPDATE _batch SET _reason = f._export_reason, _detail = f._export_detail "
                "FROM frame AS f WHERE _batch._record = f._record AND f._export_reason IS NOT NULL"
            )
        self._classify_duplicates(con)
        con.execute(self._staging_insert())
        # The record's text stays in the restricted schema (`mentorpulse quarantine show`);
        # ingest.quarantine, which is published, never holds it.
        con.execute(
            "INSERT INTO ingest.quarantine "
            "SELECT ?, ?, _line, NULL, _reason, _detail, ?, ? FROM _batch "
            "WHERE _reason IS NOT NULL ORDER BY _line",
            [self.source.name, self.landed.relative_path, self.at, self.load_id],
        )
        con.execute(
            "INSERT INTO restricted.quarantine_raw "
            "SELECT ?, _line, any_value(_raw ORDER BY _record) FROM _batch "
            "WHERE _reason IS NOT NULL GROUP BY _line ORDER BY _line",
            [self.load_id],
        )
        counts = dict(
            con.execute(
                "SELECT coalesce(_outcome, 'quarantined'), count(*) FROM _batch GROUP BY ALL"
            ).fetchall()
        )
        reasons = Counter(
            dict(
                con.execute(
                    "SELECT _reason, count(*) FROM _batch WHERE _reason IS NOT NULL GROUP BY ALL"
                ).fetchall()
            )
        )
        result = FileResult(
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
                else parsed.note
            ),
        )
        return self.record_file(con, result)

    def _classify_duplicates(self, con) -> None:
        """Set `_outcome` (load / duplicate) on valid records; conflicts become quarantined.

        A record whose key was loaded before (or appears earlier in this file) is an exact
        duplicate when its content hash matches, a conflicting_duplicate otherwise.
        """
        source = self.source
        con.execute("ALTER TABLE _batch ADD COLUMN _outcome VARCHAR")
        if source.duplicates == "replace":
            con.execute("UPDATE _batch SET _outcome = 'load' WHERE _reason IS NULL")
            return
        keys = ", ".join(ident(k + "__value") for k in source.key)
        join = " AND ".join(f"s.{ident(k)} = r.{ident(k + '__value')}" for k in source.key)
        con.execute(
            f"""
            UPDATE _batch SET
                _outcome = CASE WHEN c.conflict_detail IS NULL THEN c.outcome END,
                _reason = CASE WHEN c.conflict_detail IS NOT NULL
                               THEN 'conflicting_duplicate' END,
                _detail = c.conflict_detail
            FROM (
                WITH ranked AS (
                    SELECT _record, _record_hash, {keys},
                           row_number() OVER w AS nth,
                           first(_record_hash) OVER w AS first_hash,
                           first(_line) OVER w AS first_line
                    FROM _batch WHERE _reason IS NULL
                    WINDOW w AS (PARTITION BY {keys} ORDER BY _record
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
                )
                SELECT r._record,
                    CASE WHEN s._record_hash IS NOT NULL OR r.nth > 1 THEN 'duplicate'
                         ELSE 'load' END AS outcome,
                    CASE
                        WHEN s._record_hash IS NOT NULL AND s._record_hash <> r._record_hash
                            THEN {literal(", ".join(source.key))} || ' already loaded from '
                                 || s._source_path || ' line ' || s._line
                                 || ' with different content'
                        WHEN s._record_hash IS NULL AND r.nth > 1
                             AND r._record_hash <> r.first_hash
                            THEN 'same ' || {literal(", ".join(source.key))}
                                 || ' as line ' || r.first_line
                                 || ' of this file, with different content'
                    END AS conflict_detail
                FROM ranked r LEFT JOIN staging.{source.table} s ON {join}
            ) c
            WHERE _batch._record = c._record
            """
        )

    def _staging_insert(self) -> str:
        source = self.source
        names = [ident(c.name) for c in source.columns] + [n for n, _ in LINEAGE_COLUMNS]
        values = [ident(c.name + "__value") for c in source.columns] + [
            literal(self.landed.relative_path),
            literal(self.landed.path.name),
            "_line",
            literal(self.sha256),
            literal(self.load_id),
            f"TIMESTAMPTZ {literal(self.at.isoformat())}",
            "_record_hash",
            literal(source.name),
        ]
        return (
            f"INSERT INTO staging.{source.table} ({', '.join(names)}) "
            f"SELECT {', '.join(values)} FROM _batch WHERE _outcome = 'load' ORDER BY _line"
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
            SELECT _record, _line, _raw, CASE WHEN json_valid(_raw) THEN _raw::JSON END AS _json
            FROM frame
        ), obj AS (
            SELECT *, CASE WHEN json_type(_json) = 'OBJECT' THEN _json END AS _obj FROM doc
        ), fields AS (
            SELECT *,
                json_extract_string(_obj, {paths}) AS _texts,
                json_type(_obj, {paths}) AS _types
            FROM obj
        )
        SELECT _record, _line, _raw, _obj,
            _obj IS NULL AS _malformed,
            CASE WHEN _json IS NULL THEN 'not valid JSON'
                 WHEN _obj IS NULL THEN 'a JSON ' || lower(json_type(_json)) || ', not an object'
            END AS _malformed_detail,
            {", ".join(fields)}
        FROM fields
    """


def _csv_extraction(source: Source, header: tuple[str, ...]) -> str:
    """CSV records: each contract column's text (NULL when the header lacks it)."""
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
        SELECT _record, _line, _raw, NULL::JSON AS _obj, _malformed, _malformed_detail,
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


def _json_unknown_fields(con, source: Source) -> list[str]:
    rows = con.execute(
        "SELECT DISTINCT unnest(json_keys(_obj)) AS k FROM _batch WHERE _obj IS NOT NULL ORDER BY k"
    ).fetchall()
    return [k for (k,) in rows if k not in _names(source)]


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
