"""The outcome marts: how long matches last, which ways of pairing go with lasting matches, and
whether a survey measures consistently (METRICS.md, "Outcomes").

Pure statistics here, DataFrame in, DataFrame out, no Dagster: the cumulative incidence of
early closure (Aalen-Johansen, statsmodels `CumIncidenceRight`, with its delta-method standard
error and a log(-log) interval), the log-rank test per attribute (statsmodels `survdiff`),
Holm's adjustment (`multipletests`) and Cronbach's alpha with Feldt's interval (scipy `f.ppf`).
`build_outcome_marts(con, settings)` reads the core tables and marts.match_cadence /
marts.goal_status from the working DuckDB and writes marts.match_retention,
marts.match_closures, marts.match_design and marts.survey_reliability (their columns and
COMMENTs: sql/outcomes/outcome_marts.sql). statsmodels and scipy are imported only when a mart
is computed (they cost a second to load).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from assets.settings import Settings

OUTCOME_SQL_DIR = Path(__file__).parent / "sql" / "outcomes"
MARTS_SQL = OUTCOME_SQL_DIR / "outcome_marts.sql"
INPUTS_SQL = {
    name: OUTCOME_SQL_DIR / f"{name}.sql" for name in ("match_ends", "match_goals", "responses")
}
OUTCOME_TABLES = (
    "marts.match_retention",
    "marts.match_closures",
    "marts.match_design",
    "marts.survey_reliability",
)
# What the marts read: built before them (core and the two marts), listed for the asset's deps.
OUTCOME_READS = (
    "core.matches",
    "core.participants",
    "core.survey_responses",
    "core.known_matches",
    "marts.match_cadence",
    "marts.goal_status",
)

Z = 1.96
DAYS = (30, 90, 180, 365)
YEAR = 365
ALL = "(all)"
CENSORED, EARLY, COMPLETED = 0, 1, 2
ITEMS = ("guidance", "networking", "skills", "feedback", "communication", "satisfaction")
MIN_COMPLETE_FOR_ALPHA = 10
REASONS = ("mentor_withdrew", "mentee_withdrew", "no_engagement", "rematched", "other")


# --- competing-risks match ends --------------------------------------------------------------


@dataclass(frozen=True)
class Incidence:
    """F(day) of early closure with its log(-log) interval, and the risk set at `day`."""

    day: int
    at_risk: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None


def cumulative_incidence(
    durations: np.ndarray, status: np.ndarray, days: tuple[int, ...] = DAYS
) -> list[Incidence]:
    """Aalen-Johansen cumulative incidence of early closure (status 1; completion, 2, is the
    competing end; 0 is censored) at each of `days`, with the delta-method standard error of
    statsmodels' `CumIncidenceRight` and the log(-log) interval (METRICS.md, "Match ends").

    The estimate is NULL when no match was followed `day` days (at_risk = 0); the interval is
    NULL when the estimate is 0 or 1, or when some risk set was emptied (n_i = d_i) by `day`."""
    t = np.asarray(durations, dtype=np.float64)
    s = np.asarray(status, dtype=np.int64)
    times, n, d = _risk_sets(t, s)
    estimates = np.zeros(len(times))
    errors = np.zeros(len(times))
    if (s == EARLY).any():
        from statsmodels.duration.survfunc import CumIncidenceRight

        with np.errstate(divide="ignore", invalid="ignore"):
            fitted = CumIncidenceRight(t, s)
        assert np.array_equal(fitted.times, times)
        estimates = np.asarray(fitted.cinc[EARLY - 1], dtype=np.float64)
        errors = np.asarray(fitted.cinc_se[EARLY - 1], dtype=np.float64)
    emptied = np.cumsum(n == d) > 0  # some n_i = d_i at or before t_i
    results = []
    for day in days:
        at_risk = int((t >= day).sum())
        upto = int(np.searchsorted(times, day, side="right"))  # t_i <= day
        if at_risk == 0:
            results.append(Incidence(day, at_risk, None, None, None))
            continue
        if upto == 0:
            results.append(Incidence(day, at_risk, 0.0, None, None))
            continue
        estimate = float(estimates[upto - 1])
        se = None if emptied[upto - 1] else float(errors[upto - 1])
        low, high = loglog_interval(estimate, se)
        results.append(Incidence(day, at_risk, estimate, low, high))
    return results


def _risk_sets(t: np.ndarray, status: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct durations t_i, n_i = matches with t >= t_i, d_i = ends (either kind) at t_i."""
    times, inverse = np.unique(t, return_inverse=True)
    leaving = np.bincount(inverse, minlength=len(times))
    ends = np.bincount(
        inverse, weights=(status != CENSORED).astype(np.float64), minlength=len(times)
    )
    n = np.cumsum(leaving[::-1])[::-1]
    return times, n, ends.astype(np.int64)


def loglog_interval(estimate: float, se: float | None) -> tuple[float | None, float | None]:
    """F^exp(z s), F^exp(-z s) with s = se / (F |ln F|); NULL when F is 0 or 1 or se NULL."""
    if se is None or not math.isfinite(se) or estimate <= 0 or estimate >= 1:
        return None, None
    s = se / (estimate * abs(math.log(estimate)))
    return estimate ** math.exp(Z * s), estimate ** math.exp(-Z * s)


def wilson(successes: int, n: int) -> tuple[float | None, float | None, float | None]:
    """The rate and its Wilson 95% interval; all NULL when n = 0."""
    if n == 0:
        return None, None, None
    p = successes / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return p, centre - half, centre + half


def _with_rollup(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Each row once in its own group and once more in the `(all)` rollup of `column`."""
    return pl.concat([frame, frame.with_columns(pl.lit(ALL).alias(column))])


def _groups(frame: pl.DataFrame, keys: list[str]):
    """(key values, rows) per group, in key order (a stable, reproducible order)."""
    if frame.height == 0:
        return []
    return [
        (key if isinstance(key, tuple) else (key,), rows)
        for key, rows in frame.sort(keys).group_by(keys, maintain_order=True)
    ]


def match_retention(ends: pl.DataFrame) -> pl.DataFrame:
    """One row per (program, cohort, day), cohort `(all)` included. `ends`: program, cohort,
    t (duration in days) and status (0 censored, 1 early, 2 completed), one row per match."""
    rows = []
    for (program, cohort), group in _groups(_with_rollup(ends, "cohort"), ["program", "cohort"]):
        t = group["t"].to_numpy()
        status = group["status"].to_numpy()
        for incidence in cumulative_incidence(t, status):
            day = incidence.day
            survival = None if incidence.estimate is None else 1 - incidence.estimate
            rows.append(
                {
                    "program": program,
                    "cohort": cohort,
                    "day": day,
                    "matches": group.height,
                    "at_risk": incidence.at_risk,
                    "closed_early": int(((status == EARLY) & (t <= day)).sum()),
                    "completed": int(((status == COMPLETED) & (t <= day)).sum()),
                    "early_closure": incidence.estimate,
                    "early_closure_ci_low": incidence.ci_low,
                    "early_closure_ci_high": incidence.ci_high,
                    "survival": survival,
                    "ci_low": None if incidence.ci_high is None else 1 - incidence.ci_high,
                    "ci_high": None if incidence.ci_low is None else 1 - incidence.ci_low,
                }
            )
    return pl.DataFrame(rows, schema=RETENTION_SCHEMA)


def match_closures(ends: pl.DataFrame) -> pl.DataFrame:
    """One row per (program, cohort), `(all)` included. `ends` as for match_retention, plus
    `reason` (end_reason trimmed; blank: unknown_reason)."""
    rows = []
    for (program, cohort), group in _groups(_with_rollup(ends, "cohort"), ["program", "cohort"]):
        t = group["t"].to_numpy()
        status = group["status"].to_numpy()
        (year,) = cumulative_incidence(t, status, (YEAR,))
        early = group.filter(pl.col("status") == EARLY)
        ended = int((status != CENSORED).sum())
        share, share_low, share_high = wilson(early.height, ended)
        reasons = early["reason"].to_list()
        rows.append(
            {
                "program": program,
                "cohort": cohort,
                "matches": group.height,
                "ended": ended,
                "completed": int((status == COMPLETED).sum()),
                "closed_early": early.height,
                "early_closure_rate": year.estimate,
                "early_closure_ci_low": year.ci_low,
                "early_closure_ci_high": year.ci_high,
                "early_share_of_ended": share,
                "early_share_ci_low": share_low,
                "early_share_ci_high": share_high,
                **{reason: reasons.count(reason) for reason in REASONS},
                "unknown_reason": reasons.count("unknown_reason"),  # blank end_reason
                "median_days_to_early_closure": (
                    float(np.median(early["t"].to_numpy())) if early.height else None
                ),
            }
        )
    return pl.DataFrame(rows, schema=CLOSURES_SCHEMA)


def logrank_p(t: np.ndarray, status: np.ndarray, level: np.ndarray) -> float | None:
    """p-value of the log-rank test (statsmodels `survdiff`) that the hazard of early closure
    is the same at every level; completed and active matches are censored at t. NULL when
    fewer than two levels exist, no match closed early, or some level has no match at risk at
    any early closure (the test's covariance is then singular)."""
    early = status == EARLY
    levels = np.unique(level)
    if len(levels) < 2 or not early.any():
        return None
    closure_times = np.unique(t[early])
    for value in levels:
        if not (t[level == value].max() >= closure_times.min()):
            return None
    from statsmodels.duration.survfunc import survdiff

    try:
        _, p = survdiff(t, early.astype(np.float64), level)
    except np.linalg.LinAlgError:
        return None
    return float(p) if math.isfinite(p) else None


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm's step-down adjustment (statsmodels `multipletests`) over the non-NULL values."""
    present = [p for p in p_values if p is not None]
    if not present:
        return [None for _ in p_values]
    from statsmodels.stats.multitest import multipletests

    adjusted = iter(multipletests(present, method="holm")[1].tolist())
    return [None if p is None else next(adjusted) for p in p_values]


DESIGN_ATTRIBUTES = ("department", "location", "mentor_load")


def match_design(matches: pl.DataFrame) -> pl.DataFrame:
    """One row per (program, attribute, level), program `(all)` included. `matches`: one row
    per known match with program, match_id, t, status, cadence_attainment, goals_decided,
    goals_achieved and one column per attribute holding the match's level."""
    rows = []
    for (program,), group in _groups(_with_rollup(matches, "program"), ["program"]):
        program_rows = []
        tests = []
        for attribute in DESIGN_ATTRIBUTES:
            t = group["t"].to_numpy()
            status = group["status"].to_numpy()
            level = group[attribute].to_numpy()
            tests.append(logrank_p(t, status, level))
            for (value,), members in _groups(group, [attribute]):
                mt = members["t"].to_numpy()
                ms = members["status"].to_numpy()
                (year,) = cumulative_incidence(mt, ms, (YEAR,))
                cadence = members.sort("match_id")["cadence_attainment"].drop_nulls()
                decided = int(members["goals_decided"].sum())
                rate, low, high = wilson(int(members["goals_achieved"].sum()), decided)
                program_rows.append(
                    {
                        "program": program,
                        "attribute": attribute,
                        "level": value,
                        "matches": members.height,
                        "ended": int((ms != CENSORED).sum()),
                        "closed_early": int((ms == EARLY).sum()),
                        "early_closure_rate": year.estimate,
                        "early_closure_ci_low": year.ci_low,
                        "early_closure_ci_high": year.ci_high,
                        "logrank_p": tests[-1],
                        "cadence_attainment_mean": (
                            math.fsum(cadence.to_list()) / cadence.len() if cadence.len() else None
                        ),
                        "goals_decided": decided,
                        "goal_attainment_rate": rate,
                        "goal_attainment_ci_low": low,
                        "goal_attainment_ci_high": high,
                    }
                )
        adjusted = dict(zip(DESIGN_ATTRIBUTES, holm(tests), strict=True))
        for row in program_rows:
            row["logrank_p_holm"] = adjusted[row["attribute"]]
        rows += program_rows
    return pl.DataFrame(rows, schema=DESIGN_SCHEMA).select(list(DESIGN_SCHEMA))


# --- reliability -----------------------------------------------------------------------------


def cronbach_alpha(items: np.ndarray) -> float | None:
    """(k/(k-1)) (1 - sum of item sample variances / sample variance of the total); NULL when
    the total does not vary or there are fewer than two rows."""
    rows, k = items.shape
    if rows < 2:
        return None
    total_variance = float(np.var(items.sum(axis=1), ddof=1))
    if total_variance == 0:
        return None
    item_variances = float(np.var(items, axis=0, ddof=1).sum())
    return k / (k - 1) * (1 - item_variances / total_variance)


def feldt_interval(alpha: float, n: int, k: int = len(ITEMS)) -> tuple[float, float]:
    """Feldt's 95% interval of alpha on n complete cases of k items (scipy `f.ppf`)."""
    from scipy.stats import f

    d1, d2 = n - 1, (n - 1) * (k - 1)
    return (
        1 - (1 - alpha) * float(f.ppf(0.975, d1, d2)),
        1 - (1 - alpha) * float(f.ppf(0.025, d1, d2)),
    )


def survey_reliability(responses: pl.DataFrame, min_group_size: int) -> pl.DataFrame:
    """One row per (program, survey_id, role), role `(all)` included, no program rollup.
    `responses`: kept responses of known matches with program, survey_id, role,
    respondent_key and the six items (NULL: not answered)."""
    rows = []
    grouped = _with_rollup(responses, "role")
    for (program, survey_id, role), group in _groups(grouped, ["program", "survey_id", "role"]):
        complete = group.drop_nulls(list(ITEMS))
        n = complete.height
        respondents = complete["respondent_key"].n_unique()
        alpha = None
        if n >= MIN_COMPLETE_FOR_ALPHA and respondents >= min_group_size:
            alpha = cronbach_alpha(complete.select(ITEMS).to_numpy().astype(np.float64))
        low, high = feldt_interval(alpha, n) if alpha is not None else (None, None)
        rows.append(
            {
                "program": program,
                "survey_id": survey_id,
                "role": role,
                "n_complete": n,
                "n_respondents": respondents,
                "alpha": alpha,
                "alpha_ci_low": low,
                "alpha_ci_high": high,
            }
        )
    return pl.DataFrame(rows, schema=RELIABILITY_SCHEMA)


RETENTION_SCHEMA = {
    "program": pl.String,
    "cohort": pl.String,
    "day": pl.Int64,
    "matches": pl.Int64,
    "at_risk": pl.Int64,
    "closed_early": pl.Int64,
    "completed": pl.Int64,
    "early_closure": pl.Float64,
    "early_closure_ci_low": pl.Float64,
    "early_closure_ci_high": pl.Float64,
    "survival": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
}
CLOSURES_SCHEMA = {
    "program": pl.String,
    "cohort": pl.String,
    "matches": pl.Int64,
    "ended": pl.Int64,
    "completed": pl.Int64,
    "closed_early": pl.Int64,
    "early_closure_rate": pl.Float64,
    "early_closure_ci_low": pl.Float64,
    "early_closure_ci_high": pl.Float64,
    "early_share_of_ended": pl.Float64,
    "early_share_ci_low": pl.Float64,
    "early_share_ci_high": pl.Float64,
    **{reason: pl.Int64 for reason in REASONS},
    "unknown_reason": pl.Int64,
    "median_days_to_early_closure": pl.Float64,
}
DESIGN_SCHEMA = {
    "program": pl.String,
    "attribute": pl.String,
    "level": pl.String,
    "matches": pl.Int64,
    "ended": pl.Int64,
    "closed_early": pl.Int64,
    "early_closure_rate": pl.Float64,
    "early_closure_ci_low": pl.Float64,
    "early_closure_ci_high": pl.Float64,
    "logrank_p": pl.Float64,
    "logrank_p_holm": pl.Float64,
    "cadence_attainment_mean": pl.Float64,
    "goals_decided": pl.Int64,
    "goal_attainment_rate": pl.Float64,
    "goal_attainment_ci_low": pl.Float64,
    "goal_attainment_ci_high": pl.Float64,
}
RELIABILITY_SCHEMA = {
    "program": pl.String,
    "survey_id": pl.String,
    "role": pl.String,
    "n_complete": pl.Int64,
    "n_respondents": pl.Int64,
    "alpha": pl.Float64,
    "alpha_ci_low": pl.Float64,
    "alpha_ci_high": pl.Float64,
}


# --- reading the warehouse and writing the marts ---------------------------------------------


@dataclass(frozen=True)
class OutcomeMarts:
    match_retention: pl.DataFrame
    match_closures: pl.DataFrame
    match_design: pl.DataFrame
    survey_reliability: pl.DataFrame

    def tables(self) -> dict[str, pl.DataFrame]:
        return {
            "marts.match_retention": self.match_retention,
            "marts.match_closures": self.match_closures,
            "marts.match_design": self.match_design,
            "marts.survey_reliability": self.survey_reliability,
        }


def read_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """The rows the marts are computed from (the SQL next to the marts' DDL)."""
    con.complete()  # DuckDB 2: a relation needs no unfinished execute() result
    return {name: con.sql(path.read_text()).pl() for name, path in INPUTS_SQL.items()}


def compute_outcome_marts(inputs: dict[str, pl.DataFrame], settings: Settings) -> OutcomeMarts:
    ends = inputs["match_ends"]
    goals = inputs["match_goals"]
    design = ends.join(goals, on="match_id", how="left").with_columns(
        pl.col("goals_decided").fill_null(0), pl.col("goals_achieved").fill_null(0)
    )
    return OutcomeMarts(
        match_retention=match_retention(ends),
        match_closures=match_closures(ends),
        match_design=match_design(design),
        survey_reliability=survey_reliability(inputs["responses"], settings.min_group_size),
    )


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The four marts, empty, with their comments (also used by the data dictionary)."""
    con.execute(MARTS_SQL.read_text())


def write_marts(con: duckdb.DuckDBPyConnection, marts: OutcomeMarts) -> None:
    """Replace the four marts (in the caller's transaction, if any)."""
    create_tables(con)
    for table, frame in marts.tables().items():
        con.register("_outcome_rows", frame.to_arrow())
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _outcome_rows")
        finally:
            con.unregister("_outcome_rows")


def build_outcome_marts(con: duckdb.DuckDBPyConnection, settings: Settings) -> OutcomeMarts:
    """Read, compute and write the four outcome marts; returns what was written."""
    marts = compute_outcome_marts(read_inputs(con), settings)
    write_marts(con, marts)
    return marts
