"""Functions the warehouse SQL calls that DuckDB does not have: registered on each connection
that builds the marts (`register_functions`), before any SQL file runs.

- `t_quantile_975(df)`: the 0.975 quantile of Student's t with `df` degrees of freedom (scipy
  `t.ppf`), for the interval of a mean of answers (METRICS.md, shared rules); NULL when df is
  NULL or below 1.
"""

from __future__ import annotations

import functools

import duckdb
from duckdb.sqltypes import DOUBLE

FUNCTIONS = ("t_quantile_975",)


@functools.cache
def t_quantile_975(df: float | None) -> float | None:
    if df is None or df < 1:
        return None
    from scipy.stats import t

    return float(t.ppf(0.975, df))


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Make the functions above callable from SQL on `con`; a second call changes nothing."""
    registered = {
        name
        for (name,) in con.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_name IN ?",
            [list(FUNCTIONS)],
        ).fetchall()
    }
    if "t_quantile_975" not in registered:
        con.create_function(
            "t_quantile_975",
            t_quantile_975,
            [DOUBLE],
            DOUBLE,
            null_handling="special",
            side_effects=False,
        )
