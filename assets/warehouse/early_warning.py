"""Early warning: which active matches will close early or go quiet in the next 60 days.

Snapshots of the past (sql/risk/snapshots.sql) give, at every month end m <= D - 60, the
features of each active match as of m and whether it closed early or held no meeting within
(m, m + 60]. A regularised logistic regression is fitted on them, back-tested by rolling
origin, and scores the matches active at D. Pure functions (no Dagster): the asset in
risk_assets.py calls `build_risk_marts`. Decisions and figures: docs/model_card.md.

The fit and each back-test month are reused from the last run when exactly what they read is
unchanged (a sha256 of those rows and of the settings and code versions, kept with the result
in restricted.*): a fit is deterministic, so a reused result is the one a fresh fit gives.
scikit-learn is imported only when a model is fitted or evaluated (it costs seconds to load).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import polars as pl
import yaml

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

MIN_LABELLED_SNAPSHOTS = 300
BACKTEST_MONTHS = 6
RULE_FLAGS = ("not_started", "lapsed", "at_risk")
CALIBRATION_BIN_WIDTH = 0.1
# The early warning's own SQL (the warehouse tables it reads are dbt models).
RISK_SQL_DIR = Path(__file__).parent / "sql" / "risk"
DBT_PROJECT_FILE = Path(__file__).parent / "dbt" / "dbt_project.yml"
# The snapshots' horizon is the dbt project's (models/intermediate/risk_snapshots.sql).
HORIZON_DAYS = int(yaml.safe_load(DBT_PROJECT_FILE.read_text())["vars"]["risk_horizon_days"])
MARTS_SQL = RISK_SQL_DIR / "risk_marts.sql"
REUSE_SQL = RISK_SQL_DIR / "reuse.sql"
# Bump when fit, backtest or month_metrics change what they compute: results kept by an
# earlier version are then never reused.
MODEL_VERSION = 1
FITTED, TOO_SHORT = "fitted", "too_short"
NOTHING_STANDS_OUT = "no sign above the average match"


def _n(expr: pl.Expr) -> pl.Expr:
    """A count or rounded figure as text."""
    return expr.round(0).cast(pl.Int64).cast(pl.String)


def _counted(column: str, singular: str, plural: str) -> pl.Expr:
    """ "1 goal overdue", "3 goals overdue"."""
    return _n(pl.col(column)) + pl.when(pl.col(column) == 1).then(pl.lit(singular)).otherwise(
        pl.lit(plural)
    )


def _pct(expr: pl.Expr) -> pl.Expr:
    return _n(expr * 100) + "%"


_TARGET = pl.col("target_per_month").round(1).cast(pl.String)
_MET = pl.col("meetings_held") > 0
_RATED = pl.col("meetings_held") + pl.col("meetings_cancelled") + pl.col("meetings_no_show")

# The model's inputs (columns f_* of the snapshots) and each one in words for a reason.
FEATURES: dict[str, pl.Expr] = {
    "f_days_without_meeting": pl.when(_MET)
    .then("no meeting for " + _n(pl.col("days_since_last_meeting")) + " days")
    .otherwise("no meeting in " + _n(pl.col("active_days")) + " days since matching"),
    # a pair that never met: "no meeting in N days since matching" says it all (NULL words:
    # never given as a reason, so the other two reasons say something else)
    "f_never_met": pl.lit(None, dtype=pl.String),
    "f_held_30d_vs_target": _counted("held_last_30d", " meeting", " meetings")
    + " in the last 30 days (target "
    + _TARGET
    + "/month)",
    "f_held_90d_vs_target": _counted("held_last_90d", " meeting", " meetings")
    + " in the last 90 days (target "
    + _TARGET
    + "/month)",
    "f_cadence_attainment": pl.when(_MET).then(
        "cadence at " + _pct(pl.col("cadence_attainment").fill_null(0)) + " of target"
    ),
    "f_cancellation_rate": _n(pl.col("meetings_cancelled"))
    + " of "
    + _n(_RATED)
    + " meetings cancelled",
    "f_cancellation_rate_change": _n(pl.col("last5_cancelled"))
    + " of the last "
    + _n(pl.col("last5_meetings"))
    + " meetings cancelled",
    "f_no_show_rate": _n(pl.col("meetings_no_show")) + " of " + _n(_RATED) + " meetings no-shows",
    "f_no_show_rate_change": _n(pl.col("last5_no_show"))
    + " of the last "
    + _n(pl.col("last5_meetings"))
    + " meetings no-shows",
    "f_gap_cv": "irregular gaps between meetings (variation "
    + pl.col("gap_cv").fill_null(0).round(1).cast(pl.String)
    + ")",
    "f_days_to_first_meeting": pl.when(_MET).then(
        "first meeting after " + _n(pl.col("days_to_first_meeting")) + " days"
    ),
    "f_goals_set": pl.when(pl.col("goals_set") == 0)
    .then(pl.lit("no goal set"))
    .otherwise(_counted("goals_set", " goal set", " goals set")),
    "f_goals_overdue": _counted("goals_overdue", " goal overdue", " goals overdue"),
    "f_goal_progress": pl.when(pl.col("goals_set") > 0).then(
        "goals " + _pct(pl.col("goal_progress_mean").fill_null(0) / 100) + " done"
    ),
    "f_mentor_load": "mentor has " + _counted("mentor_load", " active match", " active matches"),
    "f_same_department": pl.when(pl.col("same_department"))
    .then(pl.lit("same department"))
    .otherwise(pl.lit("different or unknown departments")),
    "f_same_location": pl.when(pl.col("same_location"))
    .then(pl.lit("same location"))
    .otherwise(pl.lit("different or unknown locations")),
    "f_months_active": "matched only " + _counted("active_days", " day ago", " days ago"),
    "f_target_per_month": "target " + _TARGET + " meetings/month",
}
FEATURE_NAMES = list(FEATURES)
# The side of each feature a manager would call a warning sign (+1: higher is worse, -1:
# lower is worse, 0: neither). A feature is given as a reason only when the match is on that
# side: with correlated features a coefficient can have the surprising sign, and "0 of 5
# meetings cancelled" must never read as a reason for worry.
WARNING_SIDE: dict[str, int] = {
    "f_days_without_meeting": 1,
    "f_never_met": 1,
    "f_held_30d_vs_target": -1,
    "f_held_90d_vs_target": -1,
    "f_cadence_attainment": -1,
    "f_cancellation_rate": 1,
    "f_cancellation_rate_change": 1,
    "f_no_show_rate": 1,
    "f_no_show_rate_change": 1,
    "f_gap_cv": 1,
    "f_days_to_first_meeting": 1,
    "f_goals_set": -1,
    "f_goals_overdue": 1,
    "f_goal_progress": -1,
    "f_mentor_load": 1,
    "f_same_department": -1,
    "f_same_location": -1,
    "f_months_active": -1,
    "f_target_per_month": 0,
}


def build_snapshots(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The snapshots as of every month end <= D - 60, and D: core.risk_snapshots, which dbt
    builds (models/intermediate/risk_snapshots.sql)."""
    return con.sql("SELECT * FROM core.risk_snapshots ORDER BY snapshot_on, match_id").pl()


def too_short_reason(train: pl.DataFrame) -> str | None:
    """Why `train` (labelled snapshots) cannot be fitted on, or None when it can."""
    positives = int(train["label"].sum()) if train.height else 0
    if train.height < MIN_LABELLED_SNAPSHOTS:
        return (
            f"only {train.height} labelled snapshots (fewer than {MIN_LABELLED_SNAPSHOTS}): "
            "too short a history to fit"
        )
    if positives in (0, train.height):
        return f"all {train.height} labelled snapshots have the same outcome: nothing to learn"
    return None


def _matrix(frame: pl.DataFrame) -> np.ndarray:
    return frame.select(FEATURE_NAMES).to_numpy().astype(np.float64)


def _new_model() -> Pipeline:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        StandardScaler(),
        LogisticRegression(C=1.0, l1_ratio=0.0, max_iter=1000, random_state=0),
    )


def fit(train: pl.DataFrame) -> Pipeline:
    """Standardised features, L2 logistic regression (C = 1), unweighted classes so the
    probabilities stay calibrated. lbfgs is deterministic; the seed pins anything else."""
    model = _new_model()
    ordered = train.sort("snapshot_on", "match_id")
    model.fit(_matrix(ordered), ordered["label"].to_numpy().astype(int))
    return model


def predict(model: Pipeline, frame: pl.DataFrame) -> np.ndarray:
    return model.predict_proba(_matrix(frame))[:, 1]


def reasons(model: Pipeline, frame: pl.DataFrame, top: int = 3) -> pl.Series:
    """The `top` features pushing each row's probability up most, in words: contribution =
    coefficient x standardised value (relative to the training mean), positive ones only,
    and only on the feature's warning side (WARNING_SIDE)."""
    if frame.height == 0:
        return pl.Series("reasons", [], dtype=pl.String)
    scaler, regression = model[0], model[-1]
    standardised = scaler.transform(_matrix(frame))
    sides = np.array([WARNING_SIDE[name] for name in FEATURE_NAMES])
    words = frame.select(
        expr.alias(name) for name, expr in FEATURES.items()
    ).to_numpy()  # rows x features, text (None: nothing worth saying)
    warning = (standardised * sides > 0) & (words != None)  # noqa: E711 (element-wise)
    contributions = np.where(warning, standardised * regression.coef_[0], 0.0)
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :top]
    rows = np.arange(frame.height)[:, None]
    picked = np.where(contributions[rows, order] > 0, words[rows, order], None)
    joined = pl.concat_str(pl.all(), separator="; ", ignore_nulls=True)
    return pl.DataFrame(picked.tolist(), orient="row", schema=[f"r{i}" for i in range(top)]).select(
        pl.when(joined == "").then(pl.lit(NOTHING_STANDS_OUT)).otherwise(joined).alias("reasons")
    )["reasons"]


def _flag_by_rule(frame: pl.DataFrame) -> pl.Series:
    return frame["rule_status"].is_in(RULE_FLAGS)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def calibration_table(labels: np.ndarray, probabilities: np.ndarray) -> list[dict]:
    """Fixed bins [0, 0.1), ..., [0.9, 1]: matches, mean probability, observed rate."""
    bins = np.minimum((probabilities / CALIBRATION_BIN_WIDTH).astype(int), 9)
    table = []
    for b in np.unique(bins):
        inside = bins == b
        table.append(
            {
                "bin_low": round(b * CALIBRATION_BIN_WIDTH, 1),
                "bin_high": round((b + 1) * CALIBRATION_BIN_WIDTH, 1),
                "matches": int(inside.sum()),
                "mean_probability": float(probabilities[inside].mean()),
                "observed_rate": float(labels[inside].mean()),
            }
        )
    return table


def month_metrics(test: pl.DataFrame, probabilities: np.ndarray | None) -> dict:
    """Figures for one test month: the model's (when fitted) beside the rule's, the model
    flagging as many matches as the rule, its highest probabilities (ties: match_id)."""
    labels = test["label"].to_numpy().astype(int)
    positives = int(labels.sum())
    rule = _flag_by_rule(test).to_numpy()
    flagged = int(rule.sum())
    figures = {
        "matches": test.height,
        "positives": positives,
        "flagged": flagged,
        "rule_precision": _share(int(labels[rule].sum()), flagged),
        "rule_recall": _share(int(labels[rule].sum()), positives),
        "auc": None,
        "brier": None,
        "model_precision": None,
        "model_recall": None,
        "calibration": None,
    }
    if probabilities is None:
        return figures
    from sklearn.metrics import brier_score_loss, roc_auc_score

    order = np.lexsort((test["match_id"].to_numpy(), -probabilities))
    hits = int(labels[order[:flagged]].sum())
    figures |= {
        "auc": float(roc_auc_score(labels, probabilities)) if 0 < positives < test.height else None,
        "brier": float(brier_score_loss(labels, probabilities)),
        "model_precision": _share(hits, flagged),
        "model_recall": _share(hits, positives),
        "calibration": json.dumps(calibration_table(labels, probabilities)),
    }
    return figures


# --- reuse: what a result was computed from, as a digest ------------------------------------


def _versions_digest() -> bytes:
    """Everything besides the rows that decides a fit or a back-test month's figures."""
    settings = {
        "model_version": MODEL_VERSION,
        "horizon_days": HORIZON_DAYS,
        "min_labelled_snapshots": MIN_LABELLED_SNAPSHOTS,
        "rule_flags": RULE_FLAGS,
        "calibration_bin_width": CALIBRATION_BIN_WIDTH,
        "features": FEATURE_NAMES,
        **{package: version(package) for package in ("scikit-learn", "scipy", "numpy")},
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).digest()


def _text_bytes(column: pl.Series) -> bytes:
    """A text column, unambiguously: nulls, lengths, then the characters."""
    filled = column.fill_null("")
    return (
        column.is_null().to_numpy().tobytes()
        + filled.str.len_bytes().to_numpy().tobytes()
        + filled.str.join("").item().encode()
    )


def month_digests(labelled: pl.DataFrame) -> dict[dt.date, bytes]:
    """A sha256 per month end of its labelled snapshots, in match_id order, over exactly what
    fit, backtest and month_metrics read: match_id, rule_status, label and the features."""
    digests = {}
    ordered = labelled.sort("snapshot_on", "match_id")
    for rows in ordered.partition_by("snapshot_on", maintain_order=True):
        month = rows["snapshot_on"][0]
        digest = hashlib.sha256(month.isoformat().encode())
        digest.update(_text_bytes(rows["match_id"]))
        digest.update(_text_bytes(rows["rule_status"]))
        digest.update(rows["label"].cast(pl.Int8).fill_null(-1).to_numpy().tobytes())
        digest.update(_matrix(rows).tobytes())
        digests[month] = digest.digest()
    return digests


def _combined(kind: str, parts: list[bytes]) -> str:
    digest = hashlib.sha256(_versions_digest() + kind.encode())
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def fit_digest(digests: Mapping[dt.date, bytes]) -> str:
    """The fit on every labelled snapshot reads every month end's rows."""
    return _combined("fit", [digests[month] for month in sorted(digests)])


def backtest_month_digest(digests: Mapping[dt.date, bytes], month: dt.date) -> str:
    """A test month reads its training months (outcome known by then) and its own rows."""
    cutoff = month - dt.timedelta(days=HORIZON_DAYS)
    train = [digests[m] for m in sorted(digests) if m <= cutoff]
    return _combined("backtest", [month.isoformat().encode(), *train, b"test", digests[month]])


@dataclass(frozen=True)
class Reusable:
    """Results of the last run (restricted.risk_model_reuse, restricted.risk_backtest_reuse),
    each under the digest of what it was computed from."""

    models: Mapping[str, dict] = field(default_factory=dict)  # model_parameters
    backtest_months: Mapping[str, dict] = field(default_factory=dict)


def model_parameters(model: Pipeline) -> dict:
    """Everything predict_proba and reasons read from a fitted model, as plain floats (a
    DOUBLE keeps every bit)."""
    scaler, regression = model[0], model[-1]
    return {
        "scaler_mean": scaler.mean_.tolist(),
        "scaler_scale": scaler.scale_.tolist(),
        "scaler_var": scaler.var_.tolist(),
        "samples_seen": int(scaler.n_samples_seen_),
        "coefficients": regression.coef_[0].tolist(),
        "intercept": float(regression.intercept_[0]),
        "classes": regression.classes_.tolist(),
        "iterations": int(regression.n_iter_[0]),
    }


def restore_model(parameters: Mapping) -> Pipeline:
    """The fitted model back from model_parameters: the same pipeline, the same numbers."""
    model = _new_model()
    scaler, regression = model[0], model[-1]
    width = len(parameters["coefficients"])
    scaler.mean_ = np.array(parameters["scaler_mean"], dtype=np.float64)
    scaler.scale_ = np.array(parameters["scaler_scale"], dtype=np.float64)
    scaler.var_ = np.array(parameters["scaler_var"], dtype=np.float64)
    scaler.n_samples_seen_ = np.int64(parameters["samples_seen"])
    scaler.n_features_in_ = width
    regression.coef_ = np.array([parameters["coefficients"]], dtype=np.float64)
    regression.intercept_ = np.array([parameters["intercept"]], dtype=np.float64)
    regression.classes_ = np.array(parameters["classes"])
    regression.n_iter_ = np.array([parameters["iterations"]], dtype=np.int32)
    regression.n_features_in_ = width
    return model


# --- back-test, forecast ------------------------------------------------------------------


@dataclass(frozen=True)
class Backtest:
    table: pl.DataFrame  # marts.risk_backtest
    digests: list[str]  # per row of table (empty for the "no month to test" row)
    refitted: int  # months computed afresh (the others were reused)


def run_backtest(
    labelled: pl.DataFrame,
    digests: Mapping[dt.date, bytes],
    reusable: Mapping[str, dict],
    months: int = BACKTEST_MONTHS,
) -> Backtest:
    """Rolling origin: for each of the last `months` month ends with known outcomes, fit on
    the snapshots whose outcome was known at that month end, score that month's matches.
    A month whose digest is in `reusable` takes that row instead."""
    test_months = sorted(digests)[-months:]
    rows, keys, refitted = [], [], 0
    for month in test_months:
        key = backtest_month_digest(digests, month)
        keys.append(key)
        if key in reusable:
            rows.append(reusable[key])
            continue
        refitted += 1
        train = labelled.filter(pl.col("snapshot_on") <= month - dt.timedelta(days=HORIZON_DAYS))
        test = labelled.filter(pl.col("snapshot_on") == month)
        reason = too_short_reason(train)
        probabilities = None if reason else predict(fit(train), test)
        rows.append(
            {
                "test_month": month,
                "model_status": TOO_SHORT if reason else FITTED,
                "model_note": reason,
                "train_snapshots": train.height,
                "train_positives": int(train["label"].sum()) if train.height else 0,
                **month_metrics(test, probabilities),
            }
        )
    if not rows:
        rows.append(
            {
                "test_month": None,
                "model_status": TOO_SHORT,
                "model_note": f"no month end with a known {HORIZON_DAYS}-day outcome to test",
                "train_snapshots": 0,
                "train_positives": 0,
            }
        )
    return Backtest(pl.DataFrame(rows, schema=BACKTEST_SCHEMA), keys, refitted)


def backtest(snapshots: pl.DataFrame, months: int = BACKTEST_MONTHS) -> pl.DataFrame:
    """The back-test of `snapshots`, every month computed afresh."""
    labelled = snapshots.filter(pl.col("label_known"))
    return run_backtest(labelled, month_digests(labelled), {}, months).table


BACKTEST_SCHEMA = {
    "test_month": pl.Date,
    "model_status": pl.String,
    "model_note": pl.String,
    "train_snapshots": pl.Int32,
    "train_positives": pl.Int32,
    "matches": pl.Int32,
    "positives": pl.Int32,
    "auc": pl.Float64,
    "brier": pl.Float64,
    "flagged": pl.Int32,
    "model_precision": pl.Float64,
    "model_recall": pl.Float64,
    "rule_precision": pl.Float64,
    "rule_recall": pl.Float64,
    "calibration": pl.String,
}


def _rule_reason() -> pl.Expr:
    return FEATURES["f_days_without_meeting"] + "; target " + _TARGET + "/month"


@dataclass(frozen=True)
class Forecast:
    match_risk: pl.DataFrame
    backtest: pl.DataFrame
    model: Pipeline | None
    model_digest: str | None = None  # what the model was fitted on (None: no model)
    model_reused: bool = False
    backtest_digests: list[str] = field(default_factory=list)
    backtest_refitted: int = 0  # back-test months computed afresh


def forecast(snapshots: pl.DataFrame, as_of: dt.date, reusable: Reusable | None = None) -> Forecast:
    """Fit on every labelled snapshot, score the matches active at D (rule fallback when the
    history is too short), and back-test; the fit and back-test months found in `reusable`
    under the digest of their inputs are taken from there."""
    reusable = reusable or Reusable()
    train = snapshots.filter(pl.col("label_known"))
    digests = month_digests(train)
    current = snapshots.filter(pl.col("snapshot_on") == as_of).sort("match_id")
    scorable = pl.col("past_first_weeks")  # as the snapshots it was fitted on
    reason = too_short_reason(train)
    model_digest = None if reason else fit_digest(digests)
    kept = reusable.models.get(model_digest) if model_digest else None
    model_reused = kept is not None
    model = None
    if model_digest:
        model = restore_model(kept) if kept else fit(train)
    if model is not None:
        months = train["snapshot_on"].n_unique()
        note = (
            f"fitted on {train.height} labelled snapshots ({int(train['label'].sum())} "
            f"positive) at {months} month ends"
        )
        probabilities = predict(model, current)
        current = current.with_columns(
            probability=pl.when(scorable).then(pl.Series(probabilities)),
            reasons=pl.when(scorable).then(reasons(model, current)),
        )
        order = [pl.col("probability").is_null(), -pl.col("probability"), pl.col("match_id")]
    else:
        note = f"{reason}: ranked by the rule"
        current = current.with_columns(
            probability=pl.lit(None, dtype=pl.Float64),
            reasons=pl.when(scorable).then(_rule_reason()),
        )
        order = [
            ~scorable,
            ~pl.col("rule_status").is_in(RULE_FLAGS),
            -pl.col("f_days_without_meeting"),
            pl.col("match_id"),
        ]
    current = current.with_columns(
        reasons=pl.col("reasons").fill_null(
            "matched " + _n(pl.col("active_days")) + " days ago: too early to score"
        )
    )
    ranked = current.sort(order).with_row_index("risk_rank", offset=1)
    match_risk = ranked.select(
        pl.lit(as_of).alias("as_of"),
        "match_id",
        "program",
        "cohort",
        "mentor_key",
        "mentee_key",
        "matched_on",
        "rule_status",
        pl.col("rule_status").is_in(RULE_FLAGS).alias("rule_flag"),
        pl.col("probability").cast(pl.Float64),
        pl.col("risk_rank").cast(pl.Int32),
        "reasons",
        pl.lit(TOO_SHORT if reason else FITTED).alias("model_status"),
        pl.lit(note).alias("model_note"),
    ).sort("match_id")
    tested = run_backtest(train, digests, reusable.backtest_months)
    return Forecast(
        match_risk,
        tested.table,
        model,
        model_digest=model_digest,
        model_reused=model_reused,
        backtest_digests=tested.digests,
        backtest_refitted=tested.refitted,
    )


# --- the marts and what the next run may reuse --------------------------------------------


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The two marts, empty, with their comments (also used by the data dictionary)."""
    con.execute(MARTS_SQL.read_text())


def read_reusable(con: duckdb.DuckDBPyConnection) -> Reusable:
    """What the last run kept; nothing when it kept nothing (first run, or a new layout)."""
    try:
        models = con.sql("SELECT * FROM restricted.risk_model_reuse").pl()
        months = con.sql("SELECT * FROM restricted.risk_backtest_reuse ORDER BY position").pl()
    except (duckdb.CatalogException, duckdb.BinderException):
        return Reusable()
    return Reusable(
        models={row["input_digest"]: row for row in models.iter_rows(named=True)},
        backtest_months={
            row["input_digest"]: {column: row[column] for column in BACKTEST_SCHEMA}
            for row in months.iter_rows(named=True)
        },
    )


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("_risk_rows", frame.to_arrow())
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _risk_rows")
    con.unregister("_risk_rows")


def write_marts(con: duckdb.DuckDBPyConnection, result: Forecast) -> None:
    """Replace both marts, and what the next run may reuse, in one transaction: a reader sees
    the old ones or the new ones."""
    con.execute("BEGIN")
    try:
        create_tables(con)
        _insert(con, "marts.match_risk", result.match_risk)
        _insert(con, "marts.risk_backtest", result.backtest)
        con.execute(REUSE_SQL.read_text())
        if result.model is not None:
            row = {"input_digest": result.model_digest, **model_parameters(result.model)}
            _insert(con, "restricted.risk_model_reuse", pl.DataFrame([row]))
        if result.backtest_digests:
            kept = result.backtest.with_columns(
                input_digest=pl.Series(result.backtest_digests),
                position=pl.int_range(pl.len(), dtype=pl.Int32),
            )
            _insert(con, "restricted.risk_backtest_reuse", kept)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def build_risk_marts(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> Forecast:
    """Snapshots, fit, score, back-test, write marts.match_risk and marts.risk_backtest;
    the fit and the back-test months whose inputs are unchanged since the last run are
    reused (restricted.risk_model_reuse, restricted.risk_backtest_reuse)."""
    result = forecast(build_snapshots(con), as_of, read_reusable(con))
    write_marts(con, result)
    return result
