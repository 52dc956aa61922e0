"""Survey tools' exports read as they come: each tool's header layout, records as texts.

Every reader gives an `ExportTable`: one `ExportColumn` per column (how a mapping names it,
whether it is a question or the tool's own metadata) and a frame with `_line`, `_raw`,
`_malformed`, `_malformed_detail` and one text column per export column (`c0`, `c1`, ...:
question texts repeat and run long, so the frame does not use them as names).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from assets.ingest.files import CsvRecords, FileProblem, decode, read_csv


@dataclass(frozen=True)
class ExportColumn:
    name: str  # what a mapping calls it (whitespace collapsed)
    text: str  # its question text; the same as name except for Qualtrics' field IDs
    question: bool  # a question (else metadata of the tool: dates, IP address, ...)
    timezone: str | None = None  # the zone the tool wrote this column's times in, if it says

    @property
    def header(self) -> str:
        """The column as its header fingerprint sees it."""
        return self.name if self.text == self.name else f"{self.name}: {self.text}"


@dataclass(frozen=True)
class ExportTable:
    columns: tuple[ExportColumn, ...]
    frame: pl.DataFrame

    def position(self, name: str) -> int | None:
        """Where the column a mapping names is (by name or, for Qualtrics, question text)."""
        wanted = normalised(name)
        for i, column in enumerate(self.columns):
            if wanted in (column.name, column.text):
                return i
        return None


def normalised(text: str) -> str:
    """Header text as mappings match it: line breaks and runs of spaces become one space."""
    return re.sub(r"\s+", " ", text).strip()


def _frame(
    width: int,
    rows: list[list[str]],
    starts: list[int],
    raws: list[str],
    details: list[str | None] | None = None,
) -> pl.DataFrame:
    """The records as texts; a row with another number of fields than the header is malformed
    (and, from a CSV, `details` also says which record the end of the file cut short)."""
    if details is None:
        details = [
            None if len(fields) == width else f"expected {width} fields, found {len(fields)}"
            for fields in rows
        ]
    well_formed = [detail is None for detail in details]
    return pl.DataFrame(
        {
            "_line": starts,
            "_raw": raws,
            "_malformed": [not ok for ok in well_formed],
            "_malformed_detail": pl.Series(details, dtype=pl.String),
            **{
                f"c{i}": [
                    fields[i] if ok else None for fields, ok in zip(rows, well_formed, strict=True)
                ]
                for i in range(width)
            },
        },
        schema_overrides={"_line": pl.Int64, **{f"c{i}": pl.String for i in range(width)}},
    )


def _csv_table(
    data: bytes,
    header_rows: int,
    columns: Callable[[list[list[str]]], list[ExportColumn]],
    more_header: Callable[[list[list[str]], list[str]], bool] | None = None,
):
    """The export's header rows, then its records. `more_header(header rows, first record)`:
    whether that record is one more header row of the tool (read as such, not a record)."""
    records = read_csv(decode(data), header_rows)
    if len(records.header_rows) < header_rows:
        raise FileProblem(
            "file:no_records", f"the export has fewer than its tool's {header_rows} header rows"
        )
    if more_header and records.rows and more_header(records.header_rows, records.rows[0]):
        records = CsvRecords(
            [*records.header_rows, records.rows[0]],
            records.rows[1:],
            records.starts[1:],
            records.raws[1:],
            records.cut_short and len(records.rows) > 1,
        )
    described = columns(records.header_rows)
    width = len(described)
    frame = _frame(
        width, records.rows, records.starts, records.raws, records.malformed_details(width)
    )
    return ExportTable(tuple(described), frame)


# --- Qualtrics: field IDs, question texts, ImportId row (JSON, or older; legacy: none) --------

# An ImportId cell: {"ImportId":"QID1","timeZone":"..."} (since 2017), {'ImportId': 'QID1'} or
# ImportId:QID1 (older exports). The legacy exporter wrote no such row: two header rows.
IMPORT_ID = re.compile(r"""^\s*\{?\s*["']?ImportId["']?\s*[:=]\s*["']?([^"',}]*)""", re.I)
QUALTRICS_METADATA = {
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
    "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
    "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
    "DistributionChannel", "UserLanguage",
    # the legacy exporter's own columns
    "ResponseID", "ResponseSet", "Name", "ExternalDataReference", "EmailAddress",
    "LocationAccuracy",
}  # fmt: skip


def is_import_id_row(headers: list[list[str]], fields: list[str]) -> bool:
    """Qualtrics' third header row: every non-blank cell an ImportId (no response is)."""
    filled = [f for f in fields if f.strip()]
    return bool(filled) and all(IMPORT_ID.match(f) for f in filled)


def _import_meta(cell: str) -> dict:
    try:
        meta = json.loads(cell)
    except json.JSONDecodeError:
        found = IMPORT_ID.match(cell)
        return {"ImportId": found.group(1).strip()} if found else {}
    return meta if isinstance(meta, dict) else {}


def _legacy_question(field_id: str) -> bool:
    """Without ImportIds: not one of the tool's own columns (nor V1..V10, Q_ internals)."""
    return not (
        field_id in QUALTRICS_METADATA
        or re.fullmatch(r"V\d+", field_id)
        or field_id.startswith("Q_")
    )


def _qualtrics_columns(header_rows: list[list[str]]) -> list[ExportColumn]:
    ids, texts = header_rows[:2]
    imports = header_rows[2] if len(header_rows) > 2 else None
    columns = []
    for i, field_id in enumerate(ids):
        name = normalised(field_id)
        text = normalised(texts[i]) if i < len(texts) and texts[i].strip() else name
        if imports is None:
            meta = {}
            question = _legacy_question(name) and _legacy_question(text)
        else:
            meta = _import_meta(imports[i]) if i < len(imports) else {}
            question = str(meta.get("ImportId", "")).startswith("QID")
        columns.append(ExportColumn(name, text, question, timezone=meta.get("timeZone")))
    return columns


def read_qualtrics(data: bytes) -> ExportTable:
    """Field IDs and question texts, then the ImportId row if there is one (a legacy export
    has none): told apart by its cells, so a first response is never taken for it."""
    return _csv_table(data, 2, _qualtrics_columns, more_header=is_import_id_row)


# --- Google Forms: one row of question texts ------------------------------------------------

GOOGLE_FORMS_METADATA = {"Timestamp", "Email Address", "Email address", "Score"}


def _google_forms_columns(header_rows: list[list[str]]) -> list[ExportColumn]:
    names = [normalised(text) for text in header_rows[0]]
    return [ExportColumn(name, name, name not in GOOGLE_FORMS_METADATA) for name in names]


def read_google_forms(data: bytes) -> ExportTable:
    return _csv_table(data, 1, _google_forms_columns)


# --- SurveyMonkey: questions, then sub-answers ("Response", matrix rows) ---------------------

SURVEYMONKEY_METADATA = {
    "Respondent ID",
    "Collector ID",
    "Start Date",
    "End Date",
    "IP Address",
    "Email Address",
    "First Name",
    "Last Name",
    "Custom Data 1",
}
SURVEYMONKEY_WHOLE_ANSWER = {"", "Response", "Open-Ended Response"}


def _surveymonkey_columns(header_rows: list[list[str]]) -> list[ExportColumn]:
    questions, answers = header_rows[0], (header_rows[1] if len(header_rows) > 1 else [])
    columns, question = [], ""
    for i, text in enumerate(questions):
        # A question with several answer columns (a matrix) names only the first of them.
        question = normalised(text) or question
        answer = normalised(answers[i]) if i < len(answers) else ""
        name = question if answer in SURVEYMONKEY_WHOLE_ANSWER else f"{question} - {answer}"
        columns.append(ExportColumn(name, name, question not in SURVEYMONKEY_METADATA))
    return columns


def is_answers_row(headers: list[list[str]], fields: list[str]) -> bool:
    """SurveyMonkey's second header row (Response, matrix rows) is blank under the tool's own
    columns (Respondent ID, dates, ...): a response never is (it has its Respondent ID)."""
    own = [i for i, q in enumerate(headers[0]) if normalised(q) in SURVEYMONKEY_METADATA]
    return all(not fields[i].strip() for i in own if i < len(fields))


def read_surveymonkey(data: bytes) -> ExportTable:
    """The questions row, then the answers row (told apart from a first response by its cells:
    an export without one loses no response)."""
    return _csv_table(data, 1, _surveymonkey_columns, more_header=is_answers_row)


# --- Microsoft Forms: an Excel workbook, one header row -------------------------------------

MICROSOFT_FORMS_METADATA = {
    "ID",
    "Start time",
    "Completion time",
    "Email",
    "Name",
    "Last modified time",
    "Total points",
    "Quiz feedback",
}
EXCEL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime(EXCEL_TIME_FORMAT)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_line(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def read_microsoft_forms(data: bytes) -> ExportTable:
    """The first sheet; `_line` is the row number and `_raw` the row's cells as CSV."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        # Read-only mode trusts the sheet's <dimension>: Microsoft Forms writes none (or A1),
        # and only the first cell would be read. Every row is read, whatever it says.
        sheet.reset_dimensions()
        rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    except (zipfile.BadZipFile, InvalidFileException, KeyError, IndexError, OSError) as error:
        raise FileProblem("file:bad_excel", f"not a readable Excel workbook: {error}") from None
    numbered = [(n, row) for n, row in enumerate(rows, start=1) if any(v.strip() for v in row)]
    if not numbered:
        raise FileProblem("file:empty", "the workbook's first sheet is empty")
    (_, header), records = numbered[0], numbered[1:]
    width = len(header)
    cells = [(row + [""] * width)[:width] for _, row in records]  # a sheet's rows vary in length
    names = [normalised(text) for text in header]
    columns = [ExportColumn(name, name, name not in MICROSOFT_FORMS_METADATA) for name in names]
    frame = _frame(width, cells, [n for n, _ in records], [_csv_line(row) for row in cells])
    return ExportTable(tuple(columns), frame)


READERS: dict[str, Callable[[bytes], ExportTable]] = {
    "qualtrics": read_qualtrics,
    "google_forms": read_google_forms,
    "surveymonkey": read_surveymonkey,
    "microsoft_forms": read_microsoft_forms,
}
