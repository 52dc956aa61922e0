"""The early warning (assets/warehouse/early_warning.py, docs/model_card.md) on real DuckDB.

A tiny history of staging events is folded by the real core SQL (meetings, goals and their
day-by-day states) and the marts; the snapshots are hand-checked against it. The model tests
use seeded synthetic snapshots, and compare the back-test with sklearn computed directly.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import dagster as dg
import numpy as np
import polars as pl
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from assets.ingest.contract import SOURCES
from assets.ingest.loader import ensure_tables, ingest_source
from assets.resources import WarehouseResource, open_working_db
from assets.settings import bind_settings
from assets.warehouse import early_warning as ew
from assets.warehouse.pseudonyms import sync_participant_keys
from assets.warehouse.risk_assets import early_warning
from tests import dbt_compiled
from tests.conftest import copy_examples
from tests.unit.marts_harness import MartsHarness

D = "2024-09-30"  # month ends with a known 60-day outcome: 04-30 .. 07-31
CORE_FOLDS = ("meetings", "goals", "meeting_states", "goal_states")


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


class History:
    """Roster rows in core, meeting and goal events in staging, folded by the real SQL."""

    def __init__(self, as_of: str = D):
        self.wh = MartsHarness(as_of=as_of)
        self.con = self.wh.con
        ensure_tables(self.con)
        self._ids = iter(range(1, 10_000))

    def meeting(self, meeting_id, match_id, event_type, recorded, start=None):
        self.con.execute(
            "INSERT INTO staging.meetings (event_id, meeting_id, match_id, event_type, "
            "occurred_at, scheduled_start, duration_minutes) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                f"e{next(self._ids):04d}",
                meeting_id,
                match_id,
                event_type,
                at(recorded),
                at(start) if start else None,
                45 if event_type == "completed" else None,
            ],
        )

    def held(self, meeting_id, match_id, day):
        """A meeting scheduled the week before and logged completed on its day."""
        before = (dt.date.fromisoformat(day) - dt.timedelta(days=7)).isoformat()
        self.meeting(meeting_id, match_id, "scheduled", before, day)
        self.meeting(meeting_id, match_id, "completed", day, day)

    def goal(self, goal_id, match_id, event_type, recorded, **values):
        columns = ["event_id", "goal_id", "match_id", "event_type", "occurred_at", *values]
        self.con.execute(
            f"INSERT INTO staging.goals ({', '.join(columns)}) VALUES "
            f"({', '.join('?' for _ in columns)})",
            [
                f"g{next(self._ids):04d}",
                goal_id,
                match_id,
                event_type,
                at(recorded),
                *values.values(),
            ],
        )

    def snapshots(self) -> pl.DataFrame:
        bind_settings(self.con, self.wh.settings)
        dbt_compiled.build(self.con, [f"core.{name}" for name in CORE_FOLDS])
        self.wh.run()  # marts on the folded core
        dbt_compiled.build(self.con, ["core.risk_snapshots"])
        return ew.build_snapshots(self.con)


def tiny_history() -> History:
    h = History()
    h.wh.add_match("m1", "2024-05-01", target=2)
    h.wh.add_match("m2", "2024-05-01", ended_on="2024-07-15")  # closes early, blank reason
    h.wh.add_match("m3", "2024-04-01", ended_on="2024-07-10", end_reason="completed")
    h.held("a1", "m1", "2024-05-10")
    h.held("a2", "m1", "2024-05-24")
    h.meeting("a3", "m1", "scheduled", "2024-06-01", "2024-06-07")
    h.meeting("a3", "m1", "cancelled", "2024-06-06")
    # held on 06-21 but logged only on 07-02: still "scheduled" as seen at 06-30
    h.meeting("a4", "m1", "scheduled", "2024-06-15", "2024-06-21")
    h.meeting("a4", "m1", "completed", "2024-07-02", "2024-06-21")
    h.meeting("a5", "m1", "no_show", "2024-07-05", "2024-07-05")
    h.held("b1", "m2", "2024-05-20")
    h.held("c1", "m3", "2024-06-05")
    h.goal(
        "g1",
        "m1",
        "set",
        "2024-05-05",
        title="Pitch",
        horizon="short_term",
        target_date=dt.date(2024, 6, 15),
    )
    h.goal("g1", "m1", "progress", "2024-06-20", progress_pct=40.0)
    h.goal("g1", "m1", "achieved", "2024-07-20")
    return h


def row(snapshots: pl.DataFrame, day: str, match_id: str) -> dict:
    found = snapshots.filter(
        (pl.col("snapshot_on") == dt.date.fromisoformat(day)) & (pl.col("match_id") == match_id)
    )
    assert found.height == 1, (day, match_id, found)
    return found.row(0, named=True)


def test_snapshot_features_are_those_of_the_past_month_end():
    snaps = tiny_history().snapshots()
    june = row(snaps, "2024-06-30", "m1")
    assert (june["meetings_held"], june["meetings_cancelled"], june["meetings_no_show"]) == (
        2,
        1,
        0,
    )
    assert june["days_since_last_meeting"] == 37  # 06-30 - 05-24; a4 not yet logged
    assert june["days_to_first_meeting"] == 9
    assert (june["held_last_30d"], june["held_last_90d"]) == (0, 2)
    assert june["active_days"] == 60
    assert june["cadence_attainment"] == pytest.approx(2 / (60 / 30.4375) / 2)
    assert june["cancellation_rate"] == pytest.approx(1 / 3)
    assert (june["last5_meetings"], june["last5_cancelled"]) == (3, 1)
    assert june["median_gap_days"] == 14 and june["gap_cv"] is None
    assert (june["goals_set"], june["goals_overdue"], june["goal_progress_mean"]) == (1, 1, 40.0)
    assert june["rule_status"] == "at_risk"  # 37 > 2 x 30.4375 / 2
    assert june["f_held_30d_vs_target"] == 0.0
    assert june["f_held_90d_vs_target"] == pytest.approx(2 / (2 * 90 / 30.4375))

    july = row(snaps, "2024-07-31", "m1")
    assert (july["meetings_held"], july["meetings_no_show"], july["days_since_last_meeting"]) == (
        3,
        1,
        40,
    )
    assert (july["goals_overdue"], july["goal_progress_mean"]) == (0, 100.0)
    assert july["mentor_load"] == 1


def test_labels_look_sixty_days_ahead():
    snaps = tiny_history().snapshots()
    assert row(snaps, "2024-05-31", "m1")["label"] is False  # a4 held on 06-21
    assert row(snaps, "2024-07-31", "m1")["label"] is True  # nothing held by 09-29
    assert row(snaps, "2024-06-30", "m2")["label"] is True  # closed early on 07-15
    assert row(snaps, "2024-06-30", "m3")["label"] is False  # ended completed
    assert not snaps.filter(
        (pl.col("match_id") == "m2") & (pl.col("snapshot_on") >= dt.date(2024, 7, 31))
    ).height  # ended by then
    scored = snaps.filter(pl.col("snapshot_on") == dt.date.fromisoformat(D))
    assert scored["label_known"].to_list() == [False] and scored["label"].to_list() == [None]


def test_snapshot_at_the_as_of_date_matches_the_marts():
    h = tiny_history()
    snaps = h.snapshots()
    now = row(snaps, D, "m1")
    cadence = h.wh.one("match_cadence", match_id="m1")
    for column in (
        "meetings_held",
        "meetings_cancelled",
        "meetings_no_show",
        "days_since_last_meeting",
        "days_to_first_meeting",
        "cadence_attainment",
        "cancellation_rate",
        "no_show_rate",
        "median_gap_days",
        "gap_cv",
    ):
        assert now[column] == cadence[column], column
    assert now["rule_status"] == cadence["status"]


def test_nothing_recorded_after_a_month_end_changes_its_snapshot():
    h = tiny_history()
    before = h.snapshots()
    # after 06-30: a back-dated meeting, a changed outcome, a goal, a later roster ending
    h.meeting("late", "m1", "completed", "2024-07-01", "2024-06-28")
    h.meeting("a3", "m1", "completed", "2024-07-03", "2024-06-07")
    h.goal("g2", "m1", "set", "2024-07-01", title="Late", horizon="long_term")
    h.con.execute(
        "UPDATE core.matches SET ended_on = DATE '2024-08-20', "
        "end_reason = 'mentee_withdrew' WHERE match_id = 'm1'"
    )
    after = h.snapshots()
    features = [c for c in before.columns if c not in ("label", "label_known")]
    june = dt.date(2024, 6, 30)
    assert (
        after.filter(pl.col("snapshot_on") <= june)
        .select(features)
        .equals(before.filter(pl.col("snapshot_on") <= june).select(features))
    )
    # the same additions do show from the next month end on (so the check can fail)
    assert row(after, "2024-07-31", "m1")["meetings_held"] == 5
    assert row(after, "2024-06-30", "m1")["label"] is True  # the label may look ahead


def synthetic(n_months: int = 8, per_month: int = 120, seed: int = 7) -> pl.DataFrame:
    """Snapshots whose outcome depends on days without a meeting, with noise."""
    rng = np.random.default_rng(seed)
    n = n_months * per_month
    months = [dt.date(2024, i + 2, 1) - dt.timedelta(days=1) for i in range(n_months)]
    frame = {name: rng.normal(size=n) for name in ew.FEATURE_NAMES}
    frame["f_days_without_meeting"] = rng.gamma(2, 20, size=n)
    risk = 1 / (1 + np.exp(-(frame["f_days_without_meeting"] - 45) / 12))
    label = rng.random(n) < risk
    return pl.DataFrame(
        {
            "snapshot_on": pl.Series([m for m in months for _ in range(per_month)], dtype=pl.Date),
            "match_id": [f"m{i % per_month:04d}" for i in range(n)],
            "label_known": np.ones(n, dtype=bool),
            "label": label,
            "rule_status": np.where(frame["f_days_without_meeting"] > 60, "lapsed", "on_track"),
            **frame,
        }
    )


def test_two_fits_are_equal_whatever_the_row_order():
    snaps = synthetic()
    first = ew.fit(snaps)
    second = ew.fit(snaps.sample(fraction=1.0, shuffle=True, seed=3))
    assert np.array_equal(first[-1].coef_, second[-1].coef_)
    assert np.array_equal(ew.predict(first, snaps), ew.predict(second, snaps))


def test_backtest_figures_are_sklearns():
    snaps = synthetic()
    table = ew.backtest(snaps)
    months = sorted(snaps["snapshot_on"].unique().to_list())
    assert table["test_month"].to_list() == months[-ew.BACKTEST_MONTHS :]
    last = table.row(table.height - 1, named=True)
    month = months[-1]
    train = snaps.filter(pl.col("snapshot_on") <= month - dt.timedelta(days=60)).sort(
        "snapshot_on", "match_id"
    )
    test = snaps.filter(pl.col("snapshot_on") == month)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=0))
    model.fit(train.select(ew.FEATURE_NAMES).to_numpy(), train["label"].to_numpy())
    p = model.predict_proba(test.select(ew.FEATURE_NAMES).to_numpy())[:, 1]
    y = test["label"].to_numpy()
    assert last["train_snapshots"] == train.height
    assert last["auc"] == pytest.approx(roc_auc_score(y, p))
    assert last["brier"] == pytest.approx(brier_score_loss(y, p))
    flagged = int((test["rule_status"] == "lapsed").sum())
    top = test.with_columns(p=pl.Series(p)).sort(["p", "match_id"], descending=[True, False])
    hits = int(top.head(flagged)["label"].sum())
    assert last["flagged"] == flagged
    assert last["model_precision"] == pytest.approx(hits / flagged)
    assert last["model_recall"] == pytest.approx(hits / int(y.sum()))
    rule_hits = int(test.filter(pl.col("rule_status") == "lapsed")["label"].sum())
    assert last["rule_precision"] == pytest.approx(rule_hits / flagged)
    assert sum(b["matches"] for b in json.loads(last["calibration"])) == test.height


def test_too_short_a_history_falls_back_to_the_rule():
    h = tiny_history()
    h.wh.add_match("m4", "2024-09-25")  # in its first weeks: listed last, not scored
    h.snapshots()
    result = ew.build_risk_marts(h.con, dt.date.fromisoformat(D))
    risk = h.wh.rows("match_risk", order_by="risk_rank")
    assert [r["match_id"] for r in risk] == ["m1", "m4"]
    assert risk[1]["reasons"] == "matched 5 days ago: too early to score"
    assert risk[0]["model_status"] == "too_short" and risk[0]["probability"] is None
    assert "fewer than 300" in risk[0]["model_note"]
    assert risk[0]["reasons"].startswith("no meeting for ")
    backtest = h.wh.rows("risk_backtest")
    assert {r["model_status"] for r in backtest} == {"too_short"}
    assert all(r["auc"] is None and r["rule_precision"] is not None for r in backtest)
    assert result.model is None
    nothing_known = ew.backtest(synthetic().with_columns(label_known=pl.lit(False)))
    assert nothing_known.select("test_month", "model_status").rows() == [(None, "too_short")]
    one_class = synthetic().with_columns(label=pl.lit(False))
    assert "same outcome" in ew.too_short_reason(one_class)


def test_both_marts_and_every_column_have_comments():
    h = History()
    ew.create_tables(h.con)
    missing = h.con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'marts' "
        "AND table_name IN ('match_risk', 'risk_backtest') AND coalesce(comment, '') = ''"
    ).fetchall()
    tables = h.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' "
        "AND table_name IN ('match_risk', 'risk_backtest') AND coalesce(comment, '') <> ''"
    ).fetchall()
    assert missing == [] and tables == [(2,)]


def busy_history(matches: int = 90, seed: int = 11) -> History:
    """Pairs meeting every two weeks until a random day, then quiet; some close early."""
    rng = np.random.default_rng(seed)
    h = History()
    start = dt.date(2024, 1, 1)
    for i in range(matches):
        match_id = f"m{i:03d}"
        matched = start + dt.timedelta(days=int(rng.integers(0, 60)))
        quiet_from = matched + dt.timedelta(days=int(rng.integers(20, 260)))
        ends = rng.random() < 0.3
        ended = quiet_from + dt.timedelta(days=int(rng.integers(10, 50))) if ends else None
        h.wh.add_match(
            match_id,
            matched.isoformat(),
            ended_on=ended.isoformat() if ended else None,
            end_reason="mentee_withdrew" if ends else None,
        )
        day = matched + dt.timedelta(days=int(rng.integers(3, 20)))
        n = 0
        while day < min(quiet_from, dt.date(2024, 9, 30)):
            kind = "cancelled" if rng.random() < 0.15 else "completed"
            h.meeting(f"{match_id}-{n}", match_id, kind, day.isoformat(), day.isoformat())
            day += dt.timedelta(days=int(rng.integers(10, 20)))
            n += 1
    return h


def test_a_fitted_model_ranks_every_active_match_with_reasons():
    h = busy_history()
    snaps = h.snapshots()
    result = ew.forecast(snaps, dt.date.fromisoformat(D))
    risk = result.match_risk.sort("risk_rank")
    assert result.model is not None and set(risk["model_status"]) == {"fitted"}
    active = h.con.execute("SELECT count(*) FROM marts.match_cadence WHERE is_active").fetchall()
    assert risk.height == active[0][0]
    scored = risk.filter(pl.col("probability").is_not_null())
    assert scored["probability"].to_list() == sorted(scored["probability"], reverse=True)
    assert scored["risk_rank"].to_list() == list(range(1, scored.height + 1))
    top = scored.row(0, named=True)
    assert 1 <= len(top["reasons"].split("; ")) <= 3
    # the longest silences push hardest: the top match's first reason names it
    assert top["reasons"].split("; ")[0].startswith("no meeting ")
    # a reason is a warning sign, never its absence ("0 of the last 5 meetings cancelled")
    assert not risk.filter(pl.col("reasons").str.contains(r"(^|; )0 of ")).height
    assert result.backtest.filter(pl.col("model_status") == "fitted").height >= 1


def test_the_dagster_asset_writes_both_marts(settings):
    """The real asset on the contract's example files, through a real Dagster instance."""
    copy_examples(settings)
    with open_working_db(settings) as con:
        for source in SOURCES.values():
            ingest_source(con, source, settings.landing_dir, log=lambda m: None)
        sync_participant_keys(con, settings.pseudonym_key())
        dbt_compiled.build(con)
    result = dg.materialize(
        [early_warning],
        resources={"warehouse": WarehouseResource()},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    counts = {
        e.asset_key.to_user_string(): e.materialization.metadata["dagster/row_count"].value
        for e in result.get_asset_materialization_events()
    }
    with open_working_db(settings) as con:
        active = con.execute("SELECT count(*) FROM marts.match_cadence WHERE is_active").fetchall()
        statuses = con.execute("SELECT DISTINCT model_status FROM marts.match_risk").fetchall()
    assert counts["marts/match_risk"] == active[0][0]
    assert counts["marts/risk_backtest"] >= 1
    assert statuses in ([("too_short",)], [])  # a few example matches: the rule decides


def _identities(con) -> None:
    """Names and goal titles for the restricted pages' joins (restricted.participant_identity,
    restricted.goal_texts), as the warehouse keeps them."""
    con.execute(
        "CREATE SCHEMA IF NOT EXISTS restricted; "
        "CREATE TABLE restricted.participant_identity AS "
        "SELECT mentor_key AS participant_key, mentor_key AS participant_id, "
        "'Mentor of ' || match_id AS full_name, NULL::VARCHAR AS email FROM core.matches "
        "UNION ALL SELECT mentee_key, mentee_key, 'Mentee of ' || match_id, NULL FROM core.matches; "
        "CREATE TABLE restricted.goal_texts AS "
        "SELECT goal_id, 'Goal ' || goal_id AS title, NULL::VARCHAR AS measure FROM marts.goal_status"
    )


def _page_sections(h: History) -> tuple[str, str]:
    from dashboards.at_risk import forecast_sections
    from dashboards.page import Context

    ew.build_risk_marts(h.con, dt.date.fromisoformat(D))
    _identities(h.con)
    ctx = Context(
        con=h.con,
        as_of=dt.date.fromisoformat(D),
        built_at=dt.datetime.now(dt.UTC),
        min_group_size=5,
    )
    forecast, quality = forecast_sections(ctx)
    return forecast, quality


def test_the_at_risk_page_lists_the_forecast_beside_the_rule():
    h = busy_history()
    h.snapshots()
    forecast, quality = _page_sections(h)
    top = h.con.execute(
        "SELECT match_id, probability, rule_status FROM marts.match_risk ORDER BY risk_rank LIMIT 2"
    ).fetchall()
    first, second = (forecast.index(f"Mentor of {match_id} ") for match_id, _, _ in top)
    assert first < second  # sorted by forecast
    assert f"{100 * top[0][1]:.0f}%" in forecast and "Rule status" in forecast
    assert "How good is this warning" in quality and "Model precision" in quality
    assert "Calibration, month end 2024-07-31" in quality


def test_with_too_short_a_history_the_page_says_so_and_ranks_by_the_rule():
    h = tiny_history()
    h.snapshots()
    forecast, quality = _page_sections(h)
    assert "No forecast yet" in forecast and "Forecast</button>" not in forecast
    assert "Not enough history to test a model yet" in quality


def _risk_marts(h: History) -> tuple[pl.DataFrame, pl.DataFrame]:
    return h.wh.frame("match_risk"), h.wh.frame("risk_backtest")


def _fresh(h: History, as_of: dt.date) -> tuple[ew.Forecast, tuple[pl.DataFrame, pl.DataFrame]]:
    """Forget what may be reused, compute everything afresh."""
    h.con.execute(
        "DROP TABLE restricted.risk_model_reuse; DROP TABLE restricted.risk_backtest_reuse"
    )
    result = ew.build_risk_marts(h.con, as_of)
    assert not result.model_reused and result.backtest_refitted == result.backtest.height
    return result, _risk_marts(h)


def test_the_fit_and_backtest_are_reused_while_what_they_read_is_unchanged():
    h = busy_history()
    day_before, as_of = dt.date(2024, 9, 29), dt.date.fromisoformat(D)
    h.wh.settings = h.wh.settings.with_as_of(day_before)  # same labelled month ends as D
    h.snapshots()
    first = ew.build_risk_marts(h.con, day_before)
    assert first.model is not None and not first.model_reused
    assert first.backtest_refitted == first.backtest.height == ew.BACKTEST_MONTHS

    # one day later, nothing new: the same labelled snapshots, so nothing is refitted
    h.wh.settings = h.wh.settings.with_as_of(as_of)
    h.snapshots()
    reused = ew.build_risk_marts(h.con, as_of)
    assert reused.model_reused and reused.backtest_refitted == 0
    reused_marts = _risk_marts(h)
    fresh, fresh_marts = _fresh(h, as_of)
    assert ew.model_parameters(reused.model) == ew.model_parameters(fresh.model)
    for got, want in zip(reused_marts, fresh_marts, strict=True):
        assert got.equals(want, null_equal=True)  # probabilities and reasons too, bit for bit

    # a meeting lands that changes a label at the last month ends: refit those, reuse the rest
    snaps = h.snapshots()
    quiet = snaps.filter((pl.col("snapshot_on") == dt.date(2024, 7, 31)) & pl.col("label")).join(
        h.con.sql("SELECT match_id FROM core.matches WHERE ended_on IS NULL").pl(), on="match_id"
    )
    match_id = quiet["match_id"][0]
    h.meeting("late-news", match_id, "completed", "2024-08-15", "2024-08-15")
    assert row(h.snapshots(), "2024-07-31", match_id)["label"] is False
    changed = ew.build_risk_marts(h.con, as_of)
    assert not changed.model_reused
    assert 1 <= changed.backtest_refitted < changed.backtest.height
    changed_marts = _risk_marts(h)
    fresh, fresh_marts = _fresh(h, as_of)
    assert ew.model_parameters(changed.model) == ew.model_parameters(fresh.model)
    for got, want in zip(changed_marts, fresh_marts, strict=True):
        assert got.equals(want, null_equal=True)


def test_importing_the_early_warning_does_not_load_sklearn():
    code = (
        "import sys, assets.warehouse.early_warning; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
