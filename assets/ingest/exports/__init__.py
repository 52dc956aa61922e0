"""Tools' exports, read by adapters into the records of a contract source.

An adapter turns an export into the `ParsedFile` the canonical CSV path would give (the
contract's columns as text, with each record's line and text in the original file); the one
loader then validates, de-duplicates, quarantines and stages it like any other file.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from assets.ingest.exports.calendar import read_calendar
from assets.ingest.exports.surveys import read_survey_export
from assets.ingest.files import LandedFile, ParsedFile

ADAPTERS: dict[str, Callable[[duckdb.DuckDBPyConnection, LandedFile, bytes], ParsedFile]] = {
    "survey_export": read_survey_export,
    "calendar": read_calendar,
}
# A file rejected whole (e.g. no mapping yet) is read again once touched: see loader.py.


def read_export(con: duckdb.DuckDBPyConnection, landed: LandedFile, data: bytes) -> ParsedFile:
    return ADAPTERS[landed.source.adapter](con, landed, data)
