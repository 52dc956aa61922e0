"""The survey export adapter: a tool's export and its mapping -> records of `responses`.

The export is read as its tool lays it out (survey_tools.py), its header is checked against
the one last accepted for the mapping, and each record becomes the contract's columns as text:
answer labels turned into scores, the submission time into ISO-8601, the respondent and match
found in the roster. The generic loader then validates, de-duplicates and stages them.
"""

from __future__ import annotations

import hashlib
import os

import duckdb
import polars as pl

from assets.ingest.contract import PLAUSIBLE_DATES, SCORE_ITEMS
from assets.ingest.exports.lookups import ROSTER_CTES, active_on, chosen_match, run_settings
from assets.ingest.exports.mappings import (
    QUALTRICS_STATUSES,
    TOOL_DEFAULTS,
    Mapping,
    mapping_for,
)
from assets.ingest.exports.survey_tools import READERS, ExportTable
from assets.ingest.files import FileProblem, LandedFile, ParsedFile

IDENTITY_COLUMNS = ("response_id", "survey_id", "instrument", "respondent_id", "match_id", "role")
# Qualtrics' Status (Response Type): the mapping's keep_statuses count (default: live responses
# only); the rest are set aside.
QUALTRICS_DROPPED_STATUS = {
    "survey preview": "dropped:preview",
    "1": "dropped:preview",
    "survey test": "dropped:test",
    "2": "dropped:test",
    "spam": "dropped:spam",
    "8": "dropped:spam",
}
# Submission-time patterns tried when the mapping's does not fit, to say which one would.
COMMON_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y/%m/%d %H:%M:%S",
    # two-digit years (e.g. 8/19/22 13:05, as Excel and some locales write them)
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%y %H:%M",
    "%d/%m/%y %H:%M:%S",
    "%d/%m/%y %H:%M",
    "%m/%d/%y %I:%M:%S %p",
    "%m/%d/%y %I:%M %p",
    "%d.%m.%y %H:%M",
)
FIRST_YEAR, LAST_YEAR = PLAUSIBLE_DATES.minimum.year, PLAUSIBLE_DATES.maximum.year
HEADERS_TABLE = """
CREATE TABLE IF NOT EXISTS staging.export_headers (
    mapping VARCHAR NOT NULL,       -- the mapping file, relative to landing/
    fingerprint VARCHAR NOT NULL,   -- sha256 of the header, column by column
    header VARCHAR[] NOT NULL,
    path VARCHAR NOT NULL,          -- the export that brought this header
    accepted_at TIMESTAMPTZ NOT NULL
)"""


def read_survey_export(
    con: duckdb.DuckDBPyConnection, landed: LandedFile, data: bytes
) -> ParsedFile:
    mapping = mapping_for(landed)
    table = _read(mapping, data)
    if table.frame.height == 0:
        raise FileProblem("file:no_records", "the export has no responses (header only)")
    drift_note = _check_header(con, mapping, table, data)
    _, program_timezone = run_settings(con)
    records = _texts(mapping, table, program_timezone)
    frame = _with_roster(con, mapping, records)
    _remember_header(con, mapping, table, landed.relative_path)

    unmapped = tuple(column.header for column in unmapped_questions(mapping, table))
    notes = [*empty_item_warnings(mapping, table), f"mapped by {mapping.path}"]
    if unmapped:  # listed once, in ingest.files.unknown_field_names
        notes.append(
            f"{len(unmapped)} unmapped question(s), not loaded (ingest.files.unknown_field_names "
            "lists them)"
        )
    if drift_note:
        notes.append(drift_note)
    header = (*IDENTITY_COLUMNS, "submitted_at", *sorted(set(mapping.items.values())))
    return ParsedFile(frame, header, unmapped, ". ".join(notes))


# --- the tool: the mapping's reader reads the export, else say which tool would ---------------


def tools_reading(data: bytes, besides: str) -> list[str]:
    """Other tools whose reader reads the export and finds that tool's own columns (its
    submission time and response id): what `tool` should probably say."""
    found = []
    for tool, reader in READERS.items():
        if tool == besides:
            continue
        try:
            table = reader(data)
        except (FileProblem, ValueError):
            continue
        defaults = TOOL_DEFAULTS[tool]
        own = [defaults.submitted_at] + ([defaults.response_id] if defaults.response_id else [])
        if all(table.position(name) is not None for name in own):
            found.append(tool)
    return found


def _tool_advice(mapping: Mapping, data: bytes) -> str:
    tools = tools_reading(data, besides=mapping.tool)
    if not tools:
        return ""
    return (
        f'. It reads as a {" or ".join(tools)} export: set tool = "{tools[0]}" in {mapping.path} '
        f'(not "{mapping.tool}")'
    )


def _read(mapping: Mapping, data: bytes) -> ExportTable:
    """The export as the mapping's tool lays it out; a file that tool cannot read but another
    can is the mapping's fault (file:bad_mapping, read again once the mapping is fixed)."""
    try:
        return READERS[mapping.tool](data)
    except FileProblem as problem:
        advice = _tool_advice(mapping, data)
        if not advice:
            raise
        raise FileProblem(
            "file:bad_mapping", f'read as tool = "{mapping.tool}": {problem}{advice}'
        ) from None


def unmapped_questions(mapping: Mapping, table: ExportTable) -> list:
    """The export's questions the mapping does not name."""
    used = mapping.named_columns()
    return [
        column
        for column in table.columns
        if column.question and column.name not in used and column.text not in used
    ]


def questions_to_map(mapping: Mapping, table: ExportTable) -> str:
    """The export's unmapped questions as an [items] key names them (SurveyMonkey's
    `Question - Row`, Google Forms' `Question [Row]`, Qualtrics' field ID, with its text)."""
    names = [
        f'"{c.name}"' if c.text == c.name else f'"{c.name}" ({_shown(c.text)})'
        for c in unmapped_questions(mapping, table)
    ]
    if not names:
        return "the export has no unmapped question"
    return f"the export's unmapped questions, as [items] names them: {'; '.join(names)}"


def empty_item_warnings(mapping: Mapping, table: ExportTable) -> list[str]:
    """A mapped item with no answer in any record (its column absent, or empty everywhere):
    the file loads, but not as if nothing were wrong."""
    warnings = []
    for column, item in mapping.items.items():
        position = table.position(column)
        if position is None:
            state = f"is not in the export ({questions_to_map(mapping, table)})"
        elif table.frame.get_column(f"c{position}").str.strip_chars().fill_null("").eq("").all():
            state = "is empty in every row"
        else:
            continue
        warnings.append(
            f"warning: {mapping.setting_of(column)} in {mapping.path}: the column {state}, "
            f"so no {item} answer was loaded"
        )
    return warnings


# --- the header: every column the mapping names is there, and nothing changed unnoticed --------


def _fingerprint(header: list[str]) -> str:
    return hashlib.sha256("\x1f".join(header).encode()).hexdigest()


def _shown(text: str) -> str:
    """A column for a message: long question texts keep their start and their end."""
    return repr(text if len(text) <= 90 else f"{text[:30]}...{text[-55:]}")


def _reworded(old: str, new: str) -> str:
    """Old text -> the new one from the first word that differs."""
    differs_at = len(os.path.commonprefix([old, new]))
    word = old.rfind(" ", 0, differs_at) + 1
    return f"reworded {_shown(old)} -> {_shown(('...' if word else '') + new[word:])}"


def header_changes(old: list[str], new: list[str]) -> list[str]:
    """What changed between two headers: columns reworded (same place), added, removed."""
    added = [h for h in new if h not in old]
    removed = [h for h in old if h not in new]
    reworded = [(o, n) for o, n in zip(old, new, strict=False) if o in removed and n in added]
    changes = [_reworded(o, n) for o, n in reworded]
    changes += [f"added {_shown(h)}" for h in added if h not in {n for _, n in reworded}]
    changes += [f"removed {_shown(h)}" for h in removed if h not in {o for o, _ in reworded}]
    return changes or ["columns reordered"]


def _check_header(con, mapping: Mapping, table: ExportTable, data: bytes) -> str | None:
    """Reject (file:header_drift) a header that lacks a column the mapping names, or that
    differs from the one last accepted for this mapping, unless the mapping allows drift;
    returns a note on the drift allowed."""
    missing = [name for name in mapping.named_columns() if table.position(name) is None]
    identity_missing = [name for name in missing if name not in mapping.items]
    problems = []
    if missing:
        problems.append(
            "the export has no column named by "
            + ", ".join(mapping.setting_of(m) for m in missing)
            + (_tool_advice(mapping, data) if identity_missing else "")
        )
        if any(name in mapping.items for name in missing):
            problems.append(questions_to_map(mapping, table))
        if identity_missing:
            own = [
                f'"{c.name}"' + (f' (or "{c.text}")' if c.text != c.name else "")
                for c in table.columns
                if not c.question
            ]
            problems.append("the export's own (non-question) columns: " + ", ".join(own))
    con.execute(HEADERS_TABLE)
    header = [column.header for column in table.columns]
    accepted = con.execute(
        "SELECT fingerprint, header, path FROM staging.export_headers WHERE mapping = ? "
        "ORDER BY accepted_at DESC LIMIT 1",
        [mapping.path],
    ).fetchall()
    if accepted and accepted[0][0] != _fingerprint(header):
        _, old_header, old_path = accepted[0]
        changes = "; ".join(header_changes(old_header, header))
        problems.append(f"header changed since {old_path}: {changes}")
    if not problems:
        return None
    message = f"header drift against {mapping.path}: " + ". ".join(problems)
    if identity_missing or not mapping.allow_header_drift:
        # allow_header_drift cannot stand in for a missing respondent, time, match or id column
        drift = "" if identity_missing else " (or set allow_header_drift = true)"
        raise FileProblem(
            "file:header_drift",
            f"{message}. Fix the mapping{drift}, then touch the file",
        )
    return message + " (allowed by the mapping; missing items are left blank)"


def _remember_header(con, mapping: Mapping, table: ExportTable, path: str) -> None:
    header = [column.header for column in table.columns]
    con.execute(
        "INSERT INTO staging.export_headers SELECT ?, ?, ?, ?, now() WHERE ? IS DISTINCT FROM "
        "(SELECT fingerprint FROM staging.export_headers WHERE mapping = ? "
        " ORDER BY accepted_at DESC LIMIT 1)",
        [mapping.path, _fingerprint(header), header, path, _fingerprint(header), mapping.path],
    ).fetchall()


# --- each record as the contract's texts ----------------------------------------------------


def _column(table: ExportTable, name: str | None) -> pl.Expr:
    position = None if name is None else table.position(name)
    return pl.lit(None, pl.String) if position is None else pl.col(f"c{position}")


def _blank_is_null(expr: pl.Expr) -> pl.Expr:
    trimmed = expr.str.strip_chars()
    return pl.when(trimmed == "").then(None).otherwise(trimmed)


def _score(expr: pl.Expr, labels: dict[str, int]) -> pl.Expr:
    """An answer label as its score; any other answer as given (the loader judges it)."""
    label = expr.str.replace_all(r"\s+", " ").str.strip_chars().str.to_lowercase()
    scores = {name: str(score) for name, score in labels.items()}
    return label.replace_strict(scores, default=expr, return_dtype=pl.String)


def _parsed_time(expr: pl.Expr, time_format: str) -> pl.Expr:
    return expr.str.strip_chars().str.strptime(pl.Datetime("us"), time_format, strict=False)


def _read_time(expr: pl.Expr, time_format: str) -> pl.Expr:
    """The time as the pattern reads it, or null where it does not fit; a year read as
    before 100 does not fit either: `%Y` took a two-digit year (22 -> 0022), `%y` is meant."""
    parsed = _parsed_time(expr, time_format)
    return pl.when(parsed.dt.year() >= 100).then(parsed)


def _timestamp(expr: pl.Expr, time_format: str, timezone: str) -> pl.Expr:
    """The tool's local time, read with the mapping's pattern in its zone (a value that does
    not fit stays as given, and is quarantined as bad_type:submitted_at)."""
    parsed = _read_time(expr, time_format).dt.replace_time_zone(
        timezone, ambiguous="earliest", non_existent="null"
    )
    return pl.coalesce(parsed.dt.to_string("%Y-%m-%dT%H:%M:%S%:z"), expr)


def fitting_formats(texts: pl.Series) -> list[str]:
    """The common submission-time patterns that read every one of these texts as a plausible
    time (1970-2100: `%Y` reads 22 as the year 0022, which is no fit)."""
    stripped = texts.str.strip_chars().drop_nulls()  # a malformed row has no fields
    texts = stripped.filter(stripped != "")
    frame = texts.to_frame("t")
    return [
        pattern
        for pattern in COMMON_TIME_FORMATS
        if len(texts)
        and frame.select(
            _parsed_time(pl.col("t"), pattern)
            .dt.year()
            .is_between(FIRST_YEAR, LAST_YEAR)
            .fill_null(False)
            .all()
        ).item()
    ]


def _time_format_detail(mapping: Mapping, table: ExportTable, submitted: pl.Expr) -> pl.Expr:
    """Why a submission time is not read, naming the setting to change and what would fit:
    `set [submitted_at] format = '...'` is advice that works when followed."""
    texts = table.frame.select(submitted.alias("t")).get_column("t")
    fits = fitting_formats(texts)
    if len(fits) == 1:
        hint = f": set [submitted_at] format = '{fits[0]}' (it reads every row)"
    elif fits:
        hint = (
            ": set [submitted_at] format = "
            + " or ".join(f"'{f}'" for f in fits)
            + " (each reads every row: check which one your tool writes)"
        )
    else:
        hint = ": set [submitted_at] format to the strptime pattern of these dates"
    two_digits = _parsed_time(submitted, mapping.time_format).dt.year() < 100
    return pl.concat_str(
        pl.lit("submission times like '"),
        submitted.str.strip_chars(),
        pl.when(two_digits)
        .then(pl.lit("' have a two-digit year, which [submitted_at] format = "))
        .otherwise(pl.lit("' do not fit [submitted_at] format = ")),
        pl.lit(f"'{mapping.time_format}' in {mapping.path}"),
        pl.when(two_digits)
        .then(pl.lit(" reads as the year 00xx (%Y; %y reads two digits)"))
        .otherwise(pl.lit("")),
        pl.lit(hint),
    )


def _texts(mapping: Mapping, table: ExportTable, program_timezone: str) -> pl.DataFrame:
    submitted_position = table.position(mapping.submitted_column)
    timezone = mapping.timezone or table.columns[submitted_position].timezone or program_timezone
    submitted = _column(table, mapping.submitted_column)
    items = {}
    for name, item in mapping.items.items():
        answer = _column(table, name)
        items[item] = _score(answer, mapping.labels) if item in SCORE_ITEMS else answer
    status = _column(table, "Status" if mapping.tool == "qualtrics" else None)
    status_key = status.str.strip_chars().str.to_lowercase()
    # The status by name (a legacy export writes codes: 4 is Imported).
    names = {code: name for name, code in QUALTRICS_STATUSES.items()}
    status_name = status_key.replace_strict(names, default=status.str.strip_chars())
    return table.frame.with_row_index("_record").select(
        "_record",
        "_line",
        "_raw",
        "_malformed",
        "_malformed_detail",
        _column(table, mapping.response_id_column).alias("given_response_id"),
        _blank_is_null(_column(table, mapping.respondent_column)).alias("respondent"),
        _blank_is_null(_column(table, mapping.match_column)).alias("given_match_id"),
        _timestamp(submitted, mapping.time_format, timezone).alias("submitted_at"),
        submitted.alias("submitted_text"),
        pl.when(
            submitted.str.strip_chars().ne("")
            & _read_time(submitted, mapping.time_format).is_null()
        )
        .then(_time_format_detail(mapping, table, submitted))
        .alias("time_format_problem"),
        *(expr.alias(item) for item, expr in items.items()),
        pl.when(status_key.is_null() | status_key.is_in(sorted(mapping.kept_status_keys())))
        .then(None)
        .otherwise(
            status_key.replace_strict(
                QUALTRICS_DROPPED_STATUS, default="dropped:status", return_dtype=pl.String
            )
        )
        .alias("dropped"),
        status_name.alias("status"),
    )


def _with_roster(con, mapping: Mapping, records: pl.DataFrame) -> pl.DataFrame:
    """Respondent (by e-mail or id), match and role from the roster; the records the roster
    cannot place get a reason (unmatched:respondent, unmatched:match), as do dropped ones."""
    con.register("export_records", records)
    by_email = mapping.respondent_by == "email"
    # By e-mail: the one participant with it (none, or several: unplaced). By participant_id:
    # an id the roster has (else unplaced too: unmatched:respondent, not a match problem).
    respondent_id = (
        "CASE WHEN e.people = 1 THEN e.participant_id END" if by_email else "p.participant_id"
    )
    role_of = "CASE WHEN m.mentor_id = r.respondent_id THEN 'mentor' ELSE 'mentee' END"
    items = ", ".join(f'r."{item}"' for item in sorted(set(mapping.items.values())))
    resolved = con.sql(
        f"""
        WITH {ROSTER_CTES},
        respondents AS (
            SELECT r.*, {respondent_id} AS respondent_id, e.people AS people_with_email,
                CAST(timezone(getvariable('timezone'), TRY_CAST(r.submitted_at AS TIMESTAMPTZ))
                     AS DATE) AS submitted_on
            FROM export_records AS r
            LEFT JOIN people_by_email AS e ON $by_email AND e.email = lower(r.respondent)
            LEFT JOIN roster_people AS p ON NOT $by_email AND p.participant_id = r.respondent
        ),
        chosen AS ({
            chosen_match(f'''
                SELECT r._record, m.match_id, {role_of} AS role,
                    coalesce({active_on("r.submitted_on")}, FALSE) AS active
                FROM respondents AS r
                JOIN roster_matches AS m ON r.respondent_id IN (m.mentor_id, m.mentee_id)
                WHERE (r.given_match_id IS NULL OR m.match_id = r.given_match_id)
                  AND ($role IS NULL OR {role_of} = $role)''')
        }),
        derived_ids AS (
            -- A tool without ids: the export's own content that tells responses apart (the
            -- respondent, the time, the match column if mapped), the line as a last resort.
            SELECT _record, nullif(trim(given_response_id), '') AS given_id,
                md5(concat_ws(chr(31), respondent, submitted_text, given_match_id)) AS derived_id
            FROM export_records
        ),
        response_ids AS (
            SELECT _record, coalesce(given_id, derived_id || CASE
                WHEN count(*) OVER (PARTITION BY given_id IS NULL, derived_id) > 1
                    THEN ':line' || r._line ELSE '' END) AS response_id
            FROM derived_ids JOIN export_records AS r USING (_record)
        )
        SELECT r._line, r._raw, r._malformed, r._malformed_detail,
            $survey_id || ':' || i.response_id AS response_id,
            $survey_id AS survey_id,
            $instrument AS instrument,
            r.respondent_id,
            coalesce(r.given_match_id, c.match_id) AS match_id,
            coalesce($role, c.role) AS role,
            r.submitted_at,
            {items + "," if items else ""}
            CASE
                WHEN r._malformed THEN NULL
                WHEN r.dropped IS NOT NULL THEN r.dropped
                WHEN r.time_format_problem IS NOT NULL THEN 'bad_type:submitted_at'
                WHEN r.respondent IS NULL THEN 'missing_field:respondent_id'
                WHEN r.respondent IS NOT NULL AND r.respondent_id IS NULL
                    THEN 'unmatched:respondent'
                WHEN r.respondent_id IS NOT NULL AND r.given_match_id IS NULL
                     AND c.match_id IS NULL THEN 'unmatched:match'
            END AS _export_reason,
            CASE
                WHEN r._malformed THEN NULL
                WHEN r.dropped IS NOT NULL
                    THEN 'Qualtrics Status is ' || r.status || ': only ' || $kept || ' count'
                         || CASE WHEN list_contains($statuses, r.status)
                            THEN '; to load these, set keep_statuses = [' || $kept || ', "'
                                 || r.status || '"] in ' || $mapping ELSE '' END
                WHEN r.time_format_problem IS NOT NULL THEN r.time_format_problem
                WHEN r.respondent IS NULL
                    THEN 'the respondent is blank in this row: ' || $respondent_setting
                         || ' in ' || $mapping
                WHEN r.respondent IS NOT NULL AND r.respondent_id IS NULL
                    THEN CASE WHEN NOT $by_email
                        THEN 'no participant in the roster has this participant_id (by = '
                             || '"participant_id")'
                        WHEN r.people_with_email > 1
                        THEN r.people_with_email || ' participants in the roster share this e-mail'
                        ELSE 'no participant in the roster has this e-mail' END
                WHEN r.respondent_id IS NOT NULL AND r.given_match_id IS NULL
                     AND c.match_id IS NULL
                    THEN CASE WHEN c._record IS NULL
                        THEN 'the respondent has no match in the roster'
                             || coalesce(' as ' || $role, '')
                        ELSE 'the respondent has several matches (' || c.candidate_matches
                             || '), ' || c.active_matches || ' active on '
                             || coalesce(CAST(r.submitted_on AS VARCHAR), 'an unknown date')
                             || ': map a match column' END
            END AS _export_detail
        FROM respondents AS r
        JOIN response_ids AS i USING (_record)
        LEFT JOIN chosen AS c USING (_record)
        ORDER BY r._record
        """,
        params={
            "by_email": by_email,
            "role": mapping.role,
            "survey_id": mapping.survey_id,
            "instrument": mapping.instrument,
            "kept": ", ".join(f'"{status}"' for status in mapping.keep_statuses),
            "mapping": mapping.path,
            "statuses": list(QUALTRICS_STATUSES),
            "respondent_setting": mapping.setting_of(mapping.respondent_column),
        },
    ).pl()
    con.unregister("export_records")
    return resolved
