"""The warehouse comparison the incremental-exactness test relies on finds every kind of
difference: a value, a bit of a DOUBLE, a duplicated row, a column type, a missing table."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.integration.warehouse_equality import differences

BASE = """
CREATE SCHEMA marts;
CREATE TABLE marts.cadence (match_id VARCHAR, share DOUBLE, held BIGINT);
INSERT INTO marts.cadence VALUES ('M1', 0.1::DOUBLE + 0.2::DOUBLE, 3), ('M2', 0.0, 0), ('M3', NULL, 1);
CREATE TABLE marts.other (n INTEGER);
INSERT INTO marts.other VALUES (1);
"""


def warehouse(path: Path, *statements: str) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute(BASE)
        for statement in statements:
            con.execute(statement)
    return path


def test_identical_warehouses_have_no_differences(tmp_path: Path):
    left = warehouse(tmp_path / "a.duckdb")
    right = warehouse(tmp_path / "b.duckdb", "DELETE FROM marts.cadence")
    with duckdb.connect(str(right)) as con:  # same rows, inserted in another order
        con.execute("INSERT INTO marts.cadence VALUES ('M3', NULL, 1), ('M2', 0.0, 0)")
        con.execute("INSERT INTO marts.cadence VALUES ('M1', 0.1::DOUBLE + 0.2::DOUBLE, 3)")
    assert differences(left, right, ("marts",), {}) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            "UPDATE marts.cadence SET held = 4 WHERE match_id = 'M1'",
            "columns whose values differ: held",
        ),
        ("UPDATE marts.cadence SET share = 0.3 WHERE match_id = 'M1'", "0.30000000000000004"),
        # (an UPDATE to -0.0 keeps 0.0, DuckDB finding the value equal: insert it instead)
        (
            "DELETE FROM marts.cadence WHERE match_id = 'M2'; "
            "INSERT INTO marts.cadence VALUES ('M2', CAST('-0.0' AS DOUBLE), 0)",
            "'-0.0'",
        ),
        ("INSERT INTO marts.cadence VALUES ('M3', NULL, 1)", "3 rows in the left build, 4"),
        ("ALTER TABLE marts.cadence ALTER held TYPE INTEGER", "columns differ"),
        ("DROP TABLE marts.other", "marts.other: missing from the right build"),
    ],
)
def test_each_kind_of_difference_is_found_and_shown(tmp_path: Path, change: str, expected: str):
    left = warehouse(tmp_path / "a.duckdb")
    right = warehouse(tmp_path / "b.duckdb", change)
    found = differences(left, right, ("marts",), {})
    assert len(found) == 1 and expected in found[0], found


def test_an_excluded_column_is_not_compared(tmp_path: Path):
    left = warehouse(tmp_path / "a.duckdb")
    right = warehouse(tmp_path / "b.duckdb", "UPDATE marts.cadence SET held = held + 1")
    assert differences(left, right, ("marts",), {"marts.cadence": {"held": "a test"}}) == []
