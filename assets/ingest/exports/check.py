"""`mentorpulse check-mapping MAPPING EXPORT`: how a survey export would load, before it lands.

The export goes through the real loader — the same reader, mapping, rules and roster lookups —
but into an in-memory database: a copy of what the working database knows (the roster, the
responses and headers already loaded, the files already ingested) plus the roster files in
landing/ not ingested yet, as the next run would see them. Nothing is written to the warehouse
or to landing/. Each problem comes with the mapping setting to change.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from assets.ingest.contract import MATCHES, PARTICIPANTS, SCORE_ITEMS, SURVEY_EXPORTS
from assets.ingest.exports.mappings import (
    MAPPING_SUFFIXES,
    MAPPINGS_FOLDER,
    Mapping,
    mapping_for,
    mappings_naming,
)
from assets.ingest.exports.survey_tools import READERS, ExportTable
from assets.ingest.exports.surveys import empty_item_warnings, questions_to_map
from assets.ingest.files import LandedFile, discover
from assets.ingest.loader import FileResult, ensure_tables, ingest_file, ingest_source
from assets.ingest.validation import literal
from assets.settings import Settings, bind_settings

EXPORTS_FOLDER = SURVEY_EXPORTS.folder
# What the next run would know from the working database, copied into the check's own one.
KNOWN_TABLES = (
    "ingest.files",
    "ingest.quarantine",
    "staging.participants",
    "staging.matches",
    "staging.responses",
)
FIRST_LINES = 5
# Reasons a record is set aside by design, not by a fault of the mapping or the export.
BY_DESIGN = ("dropped:",)


@dataclass
class ReasonCount:
    reason: str
    count: int
    lines: list[int]
    details: list[str]  # distinct details, the first few

    @property
    def by_design(self) -> bool:
        return self.reason.startswith(BY_DESIGN)


@dataclass
class MappingCheck:
    mapping: str  # as the loader names it: surveys/mappings/<name>
    export: str  # surveys/exports/<name>
    result: FileResult | None  # None: the same bytes were ingested before, nothing to load
    roster_note: str
    items_found: list[str] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)  # item setting -> answers loaded
    unknown_columns: str | None = None  # as ingest.files.unknown_field_names lists them
    reasons: list[ReasonCount] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # each with the setting to change

    @property
    def clean(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [f"check-mapping: {self.mapping} on {self.export} ({self.roster_note})"]
        if self.result is None:
            out.append("already ingested with these bytes: nothing would load")
            return out
        result = self.result
        out.append(
            f"would be {result.status}: read {result.rows_read}, loaded {result.rows_loaded}, "
            f"duplicate {result.rows_duplicate}, quarantined {result.rows_quarantined}"
        )
        if result.message:
            out.append(f"message: {result.message}")
        if self.items_found:
            out.append(f"items found ({len(self.items_found)}): " + "; ".join(self.items_found))
        if self.unknown_columns:
            out.append(f"unknown columns, not loaded: {self.unknown_columns}")
        for reason in self.reasons:
            shown = ", ".join(str(n) for n in reason.lines)
            more = ", ..." if reason.count > len(reason.lines) else ""
            tag = " (set aside by design)" if reason.by_design else ""
            out.append(f"quarantined {reason.reason}: {reason.count}{tag}, lines {shown}{more}")
            out += [f"    {detail}" for detail in reason.details]
        out += [f"problem: {problem}" for problem in self.problems]
        out.append(
            "it would load clean" if self.clean else f"{len(self.problems)} problem(s) to fix"
        )
        return out


def _advice(reason: ReasonCount, mapping: Mapping) -> str:
    """What to do about records quarantined under `reason`, as the problem line says it."""
    rule, _, column = reason.reason.partition(":")
    path = mapping.path
    respondent = f'[respondent] column = "{mapping.respondent_column}"'
    if reason.reason == "bad_type:submitted_at":
        return reason.details[0]  # names the setting and the pattern that would fit
    if reason.reason == "implausible:submitted_at":
        return (
            f"check [submitted_at] format = '{mapping.time_format}' in {path}: the times it "
            "reads are before 1970 or after 2100"
        )
    if rule in ("bad_type", "bad_value") and column not in SCORE_ITEMS:
        return (
            f'check [items] in {path}: the question mapped to "{column}" holds values its rule '
            "does not take: is it the right question?"
        )
    if rule in ("bad_type", "bad_value"):
        answers = [d.split(", got ", 1)[1] for d in reason.details if ", got " in d]
        labels = ", ".join(f'"{a}" = <1-5>' for a in answers) or '"<answer>" = <1-5>'
        return (
            f"add to [labels] in {path}: {labels} (answers of {column} off the scale), or check "
            f'that [items] maps the right question to "{column}"'
        )
    if reason.reason == "unmatched:respondent" and mapping.respondent_by == "participant_id":
        return (
            f'{respondent}, by = "participant_id" in {path}: these ids are not in the roster; '
            "map the column that holds the roster's participant ids, or add these people to "
            "the roster"
        )
    if reason.reason == "unmatched:respondent":
        return (
            f'{respondent}, by = "email" in {path}: these e-mails are not the roster\'s (or '
            "several participants share one); map the column that holds the roster's e-mails "
            '(or use by = "participant_id" for a column of participant ids), or fix the roster'
        )
    if reason.reason == "unmatched:match":
        return (
            f"change [match] column (a column holding the match_id) or [match] role in {path}: "
            "the roster alone cannot tell these respondents' match"
        )
    if reason.reason == "missing_field:respondent_id":
        return f"{respondent} in {path} is blank in these rows: map the column naming them"
    if reason.reason == "missing_field:submitted_at":
        return (
            f'[submitted_at] column = "{mapping.submitted_column}" in {path} is blank in these '
            "rows: map the column holding the submission time"
        )
    if reason.reason == "conflicting_duplicate":
        return (
            f"change response_id in {path}: these responses share an id with others of other "
            "content; map the tool's response-id column"
        )
    return f"the export itself ({reason.reason}): {reason.details[0] if reason.details else ''}"


def _file_advice(result: FileResult, mapping: str, export_name: str) -> str:
    message = result.message or ""
    if "file:no_mapping" in message and "unreadable" not in message:
        return f'files in {mapping}: add a glob that names {export_name} (e.g. files = "{export_name}")'
    return message  # a mapping or header problem: the message names the setting


@contextmanager
def _scratch_landing(mapping_path: Path, export_path: Path) -> Iterator[Path]:
    """A landing folder with only this mapping and this export, where the loader finds them."""
    with tempfile.TemporaryDirectory(prefix="mentorpulse-check-") as folder:
        landing = Path(folder) / "landing"
        for source, target in (
            (mapping_path, landing / MAPPINGS_FOLDER / mapping_path.name),
            (export_path, landing / EXPORTS_FOLDER / export_path.name),
        ):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        yield landing


def _copy_known(con: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    """Copy what the working database knows; say where the roster comes from."""
    ensure_tables(con)
    if not settings.working_db_path.exists():
        return "no working database yet: roster from landing/roster"
    try:
        con.execute(f"ATTACH {literal(str(settings.working_db_path))} AS known (READ_ONLY)")
    except duckdb.IOException:
        return "the working database is in use by a run: roster from landing/roster only"
    tables = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'known'"
        ).fetchall()
    }
    for table in KNOWN_TABLES:
        if table in tables:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM known.{table}")
    if "staging.export_headers" in tables:
        con.execute(
            "CREATE TABLE staging.export_headers AS SELECT * FROM known.staging.export_headers"
        )
    con.execute("DETACH known")
    return "roster: the working database and landing/roster"


def check_mapping(settings: Settings, mapping_path: Path, export_path: Path) -> MappingCheck:
    mapping = f"{MAPPINGS_FOLDER}/{mapping_path.name}"
    export = f"{EXPORTS_FOLDER}/{export_path.name}"
    if mapping_path.suffix not in MAPPING_SUFFIXES:
        check = MappingCheck(mapping, export, None, "not read")
        check.problems.append(f"name the mapping file *{' or *'.join(MAPPING_SUFFIXES)}")
        return check
    with _scratch_landing(mapping_path, export_path) as landing, duckdb.connect() as con:
        bind_settings(con, settings)
        roster_note = _copy_known(con, settings)
        for source in (PARTICIPANTS, MATCHES):  # the roster comes first in a run
            ingest_source(con, source, settings.landing_dir, log=lambda _: None)
        found = discover(landing, SURVEY_EXPORTS)
        landed = found[0] if found else LandedFile(SURVEY_EXPORTS, landing / export, export)
        result = ingest_file(con, landed)
        check = MappingCheck(mapping, export, result, roster_note)
        if not found:
            check.problems.append(
                f"a run reads only {' and '.join(SURVEY_EXPORTS.patterns)} in "
                f"landing/{EXPORTS_FOLDER}/: rename the export"
            )
        others = [
            path
            for path, _ in mappings_naming(settings.landing_dir, export_path.name)[0]
            if path != mapping
        ]
        if others:
            check.problems.append(
                f"files in {', '.join(others)} (landed) names {export_path.name} too: a run "
                "would reject it as named by several mappings; keep it in one mapping's files"
            )
        if result is not None:
            _describe(con, check, result, landed)
    return check


def _describe(con, check: MappingCheck, result: FileResult, landed: LandedFile) -> None:
    (unknown,) = con.execute(
        "SELECT unknown_field_names FROM ingest.files WHERE load_id = ?", [result.load_id]
    ).fetchall()[0]
    check.unknown_columns = unknown
    if result.status == "rejected":
        check.problems.append(_file_advice(result, check.mapping, landed.path.name))
        return
    mapping = mapping_for(landed)
    table = READERS[mapping.tool](landed.path.read_bytes())
    check.items_found, check.answers = _items_found(con, result, mapping, table)
    for reason, count, lines, details in con.execute(
        "SELECT reason, count(*), list(line ORDER BY line)[:?], "
        "list(DISTINCT detail ORDER BY detail)[:3] FROM ingest.quarantine WHERE load_id = ? "
        "GROUP BY reason ORDER BY count(*) DESC, reason",
        [FIRST_LINES, result.load_id],
    ).fetchall():
        counted = ReasonCount(reason, count, lines, [d for d in details if d])
        check.reasons.append(counted)
        if not counted.by_design:
            check.problems.append(f"{count} row(s) {reason}: {_advice(counted, mapping)}")
    warnings = [w.removeprefix("warning: ") for w in empty_item_warnings(mapping, table)]
    check.problems += warnings
    if result.rows_loaded + result.rows_duplicate == 0:
        by_design = [r for r in check.reasons if r.by_design]
        check.problems.append(
            f"nothing would load: all {result.rows_read} row(s) would be quarantined"
            + (
                " (the rows set aside by design are listed above, each with the setting that "
                "would keep it)"
                if by_design
                else ""
            )
        )
    elif not mapping.items:
        check.problems.append(
            f"[items] in {mapping.path} maps no question, so no answer would load: "
            + questions_to_map(mapping, table)
        )
    elif zero := [found for found, n in check.answers.items() if n == 0]:
        warned = " ".join(warnings)
        check.problems += [
            f"{setting} in {mapping.path}: no row would load an answer to it"
            for setting in zero
            if setting not in warned
        ]


def _items_found(
    con, result: FileResult, mapping: Mapping, table: ExportTable
) -> tuple[list[str], dict[str, int]]:
    """Each mapped question found in the export, with how many rows would load an answer
    (as shown, and by the setting that maps it)."""
    items = [
        (column, item)
        for column, item in mapping.items.items()
        if table.position(column) is not None
    ]
    if not items:
        return [], {}
    counts = con.execute(
        "SELECT " + ", ".join(f'count("{item}")' for _, item in items) + " FROM staging.responses "
        "WHERE _load_id = ?",
        [result.load_id],
    ).fetchall()[0]
    check_answers = {
        mapping.setting_of(column): n for (column, _), n in zip(items, counts, strict=True)
    }
    return [
        f'{item} <- "{column}" ({n} answer(s))'
        for (column, item), n in zip(items, counts, strict=True)
    ], check_answers
