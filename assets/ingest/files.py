"""Landed files: which are ready, in which order, and how their bytes become records."""

from __future__ import annotations

import csv
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from assets.ingest.contract import LANDING_SOURCES, Source

IN_FLIGHT_SUFFIXES = (".part", ".tmp", ".crdownload")
BOM = "\ufeff"
csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class LandedFile:
    source: Source
    path: Path
    relative_path: str  # relative to landing/, as recorded in ingest.files

    @property
    def format(self) -> str:
        """csv, jsonl, or the adapter reading a tool's export (its records come out as CSV's)."""
        if self.source.adapter:
            return self.source.adapter
        return "csv" if self.path.suffix.lower() == ".csv" else "jsonl"

    @property
    def landing_dir(self) -> Path:
        return self.path.parents[len(Path(self.relative_path).parts) - 1]

    def stat_signature(self) -> tuple[int, int]:
        stat = self.path.stat()
        return stat.st_size, stat.st_mtime_ns


def is_in_flight(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(IN_FLIGHT_SUFFIXES)


def discover(landing_dir: Path, source: Source) -> list[LandedFile]:
    """The source's ready files, in the order they are applied: by file name, then path."""
    folder = landing_dir / source.folder
    found = {
        path
        for pattern in source.patterns
        for path in folder.glob(pattern)
        if path.is_file() and not is_in_flight(path.name)
    }
    return [
        LandedFile(source, path, path.relative_to(landing_dir).as_posix())
        for path in sorted(found, key=lambda p: (p.name, p.as_posix()))
    ]


def discover_all(landing_dir: Path) -> list[LandedFile]:
    return [f for source in LANDING_SOURCES.values() for f in discover(landing_dir, source)]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileProblem(Exception):
    """The whole file is unusable; `reason` is the rule (e.g. file:not_utf8)."""

    def __init__(self, reason: str, message: str, line: int | None = None):
        super().__init__(message)
        self.reason = reason
        self.line = line


def decode(data: bytes) -> str:
    """UTF-8 text without BOM, or a FileProblem naming the rule and line."""
    if not data.strip():
        raise FileProblem("file:empty", "the file is empty")
    if b"\x00" in data[:65536]:
        raise FileProblem("file:binary", "the file holds binary data (NUL bytes), not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FileProblem(
            "file:not_utf8",
            f"not UTF-8: byte 0x{data[error.start]:02x} at line {line} cannot be decoded",
            line,
        ) from None
    return text.removeprefix(BOM)


@dataclass(frozen=True)
class ParsedFile:
    """Records of one file: `_line`, `_raw`, `_malformed`, `_malformed_detail` and, for CSV,
    one text column per header field. JSON fields are extracted later, in SQL.

    An export's adapter gives the contract's columns as CSV would, and may add
    `_export_reason` / `_export_detail`: why it sets a record aside (a preview response, a
    respondent not in the roster), which wins over the contract's rules."""

    frame: pl.DataFrame
    header: tuple[str, ...] = ()
    unmapped: tuple[str, ...] = ()  # an export's columns no mapping names: reported, not loaded
    note: str | None = None  # said of the file in ingest.files.message


def parse(landed: LandedFile, text: str) -> ParsedFile:
    parsed = _parse_csv(text) if landed.format == "csv" else _parse_jsonl(text)
    if parsed.frame.height == 0:
        raise FileProblem("file:no_records", "the file has no records (header only or blank)")
    return parsed


def _parse_jsonl(text: str) -> ParsedFile:
    frame = (
        pl.DataFrame({"_raw": text.split("\n")})
        .with_row_index("_line", offset=1)
        .with_columns(pl.col("_line").cast(pl.Int64), pl.col("_raw").str.strip_suffix("\r"))
        .filter(pl.col("_raw").str.strip_chars() != "")
        .with_columns(_malformed=pl.lit(False), _malformed_detail=pl.lit(None, pl.String))
    )
    return ParsedFile(frame)


@dataclass(frozen=True)
class CsvRecords:
    """A CSV file's header rows, then each non-blank record: its fields, first line and text."""

    header_rows: list[list[str]]
    rows: list[list[str]]
    starts: list[int]
    raws: list[str]


def read_csv(text: str, header_rows: int = 1) -> CsvRecords:
    lines = text.split("\n")
    reader = csv.reader(line + "\n" for line in lines)
    # The csv module is the RFC 4180 parser (quoted fields may span lines); this loop only
    # records where each record starts and ends.
    headers, starts, raws, rows = [], [], [], []
    try:
        headers = [next(reader) for _ in range(header_rows)]
        previous_end = reader.line_num
        for fields in reader:
            end = reader.line_num
            if not _is_blank(fields):
                starts.append(previous_end + 1)
                raws.append("\n".join(lines[previous_end:end]).rstrip("\r\n"))
                rows.append(fields)
            previous_end = end
    except StopIteration:
        pass  # fewer rows than header rows: no records
    except csv.Error as error:
        raise FileProblem(
            "file:bad_csv", f"CSV cannot be parsed: {error}", reader.line_num
        ) from None
    return CsvRecords(headers, rows, starts, raws)


def _parse_csv(text: str) -> ParsedFile:
    records = read_csv(text)
    if not records.header_rows:
        return ParsedFile(pl.DataFrame(), ())
    header = tuple(name.strip() for name in records.header_rows[0])
    starts, raws, rows = records.starts, records.raws, records.rows
    width = len(header)
    well_formed = [len(fields) == width for fields in rows]
    columns = {
        name: [fields[i] if ok else None for fields, ok in zip(rows, well_formed, strict=True)]
        for i, name in enumerate(header)
        if name
    }
    frame = pl.DataFrame(
        {
            "_line": starts,
            "_raw": raws,
            "_malformed": [not ok for ok in well_formed],
            "_malformed_detail": [
                None if ok else f"expected {width} fields, found {len(fields)}"
                for fields, ok in zip(rows, well_formed, strict=True)
            ],
            **columns,
        },
        schema_overrides={"_line": pl.Int64, **dict.fromkeys(columns, pl.String)},
    )
    return ParsedFile(frame, header)


def _is_blank(fields: list[str]) -> bool:
    """A blank line; a row of empty fields (",,,") is a record and gets validated."""
    return len(fields) == 0 or (len(fields) == 1 and not fields[0].strip())
