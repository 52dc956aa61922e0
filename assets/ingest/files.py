"""Landed files: which are ready, in which order, and how their bytes become records."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from assets.ingest.contract import LANDING_SOURCES, Source

IN_FLIGHT_SUFFIXES = (".part", ".tmp", ".crdownload")
BOM = "\ufeff"
# Fed to the CSV reader after the last line: it comes back inside a field only when the file
# ends inside a quoted field (the csv module accepts that silently). A Unicode noncharacter.
END_OF_FILE = "\ufdd0"
csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class LandedFile:
    source: Source
    path: Path
    relative_path: str  # relative to landing/, as recorded in ingest.files
    # Why the file is not read (a symlink, a FIFO, a path leaving landing/); None: regular.
    not_regular: str | None = None

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
        """(size, mtime) without following a link; size 0 for a file never opened, as recorded."""
        found = self.path.lstat()
        return (0 if self.not_regular else found.st_size), found.st_mtime_ns

    def read_bytes(self) -> bytes:
        """The bytes of a regular file, never following a link, never blocking on a FIFO."""
        if self.not_regular:
            raise not_regular_problem(self.relative_path, self.not_regular)
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as error:
            if error.errno != errno.ELOOP:
                raise
            raise not_regular_problem(self.relative_path, "a symbolic link") from None
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since it was found
                raise not_regular_problem(self.relative_path, "not a regular file")
            return handle.read()


def is_in_flight(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(IN_FLIGHT_SUFFIXES)


def why_not_regular(path: Path, landing_dir: Path) -> str | None:
    """Why a landed path is not read, or None for a regular file inside landing/.

    Decided on lstat and the resolved path, so nothing is opened: a symlink (wherever it
    points), a FIFO, a device, a socket, or a path that passes through a linked folder."""
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if not stat.S_ISREG(mode):
        kind = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}
        return kind.get(stat.S_IFMT(mode), "not a regular file")
    if path.resolve() != landing_dir.resolve() / path.relative_to(landing_dir):
        return "reached through a linked folder (it resolves to another place)"
    return None


def not_regular_problem(relative_path: str, why: str) -> FileProblem:
    return FileProblem(
        "file:not_regular",
        f"landing/{relative_path} is {why}: only regular files inside landing/ are read, so it "
        "was not opened. Put the file itself there instead (write it, then rename it in)",
    )


def discover(landing_dir: Path, source: Source) -> list[LandedFile]:
    """The source's ready files, in the order they are applied: by file name, then path.

    Entries that are not regular files are listed too (to be rejected whole, unopened);
    real sub-directories are not files and are skipped."""
    folder = landing_dir / source.folder
    found = {
        path
        for pattern in source.patterns
        for path in folder.glob(pattern)
        if not is_in_flight(path.name) and not (path.is_dir() and not path.is_symlink())
    }
    landed = []
    for path in sorted(found, key=lambda p: (p.name, p.as_posix())):
        try:
            why = why_not_regular(path, landing_dir)
        except FileNotFoundError:  # removed since it was listed
            continue
        landed.append(LandedFile(source, path, path.relative_to(landing_dir).as_posix(), why))
    return landed


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
    """A CSV file's header rows, then each non-blank record: its fields, first line and text.

    `cut_short`: the last record is cut inside a quoted field (the file ends there)."""

    header_rows: list[list[str]]
    rows: list[list[str]]
    starts: list[int]
    raws: list[str]
    cut_short: bool = False

    def malformed_details(self, width: int) -> list[str | None]:
        """Per record, why it is malformed (None when well-formed) for a header of `width`."""
        details: list[str | None] = [
            None if len(fields) == width else f"expected {width} fields, found {len(fields)}"
            for fields in self.rows
        ]
        if self.cut_short:
            details[-1] = "the file ends inside a quoted field: the record is cut short"
        return details


def read_csv(text: str, header_rows: int = 1) -> CsvRecords:
    lines = text.split("\n")
    # Each line of `text` as the reader's input line (split on "\n" only), then the marker.
    source = io.StringIO(text + "\n" + END_OF_FILE + "\n", newline="\n")
    reader = csv.reader(source)
    # The csv module is the RFC 4180 parser (quoted fields may span lines); this loop only
    # records where each record starts and ends.
    records, ends = [], []  # every record before the marker: fields; the line it ends on
    try:
        for fields in reader:
            if fields == [END_OF_FILE]:
                break
            records.append(fields)
            ends.append(reader.line_num)
    except csv.Error as error:
        raise FileProblem(
            "file:bad_csv", f"CSV cannot be parsed: {error}", reader.line_num
        ) from None
    headers = records[:header_rows]
    starts, raws, rows = [], [], []
    cut_short = False
    marker = END_OF_FILE + "\n"
    for n in range(header_rows, len(records)):
        fields = records[n]
        start, end = ends[n - 1] if n else 0, ends[n]
        cut = bool(fields) and fields[-1].endswith(marker)
        if cut:  # the reader reached the end of the file inside a quoted field
            fields[-1] = fields[-1].removesuffix(marker)
        if not _is_blank(fields):
            starts.append(start + 1)
            raws.append("\n".join(lines[start:end]).rstrip("\r\n"))
            rows.append(fields)
            cut_short = cut
    return CsvRecords(headers, rows, starts, raws, cut_short)


def _parse_csv(text: str) -> ParsedFile:
    records = read_csv(text)
    if not records.header_rows:
        return ParsedFile(pl.DataFrame(), ())
    header = tuple(name.strip() for name in records.header_rows[0])
    starts, raws, rows = records.starts, records.raws, records.rows
    width = len(header)
    details = records.malformed_details(width)
    # A malformed record's fields are not read: its columns are NULL.
    empty = [None] * width
    aligned = [fields if not why else empty for fields, why in zip(rows, details, strict=True)]
    by_column = list(zip(*aligned, strict=True)) if aligned else [()] * width
    columns = {name: list(by_column[i]) for i, name in enumerate(header) if name}
    frame = pl.DataFrame(
        {
            "_line": starts,
            "_raw": raws,
            "_malformed": [detail is not None for detail in details],
            "_malformed_detail": details,
            **columns,
        },
        schema_overrides={
            "_line": pl.Int64,
            "_malformed_detail": pl.String,
            **dict.fromkeys(columns, pl.String),
        },
    )
    return ParsedFile(frame, header)


def _is_blank(fields: list[str]) -> bool:
    """A blank line; a row of empty fields (",,,") is a record and gets validated."""
    return len(fields) == 0 or (len(fields) == 1 and not fields[0].strip())
