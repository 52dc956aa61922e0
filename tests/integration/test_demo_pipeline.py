"""The whole graph on the demo sample: nothing lost, nothing personal published, everything
an analyst is promised is there."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from assets.dictionary import dictionary_markdown
from tests.conftest import EXAMPLES, REPO
from tests.integration.conftest import DemoRun, demo_env, run_cli

METRICS_COLUMNS = {
    "match_cadence": "match_id program cohort mentor_key mentee_key matched_on ended_on is_active "
    "active_days target_per_month meetings_held meetings_cancelled meetings_no_show "
    "meetings_per_month cadence_attainment first_meeting_on days_to_first_meeting "
    "last_meeting_on days_since_last_meeting median_gap_days gap_cv cancellation_rate "
    "no_show_rate status",
    "goal_status": "goal_id match_id program cohort horizon category target_date has_measure "
    "set_on status progress_pct achieved_on days_to_achieve is_overdue is_smart",
    "goal_attainment": "program cohort horizon goals_set goals_achieved goals_abandoned "
    "goals_open goals_overdue attainment_rate attainment_ci_low attainment_ci_high "
    "median_days_to_achieve smart_share goals_open_undated",
    "feedback_scores": "program cohort survey_id role item n n_respondents mean ci_low ci_high "
    "top2_share suppressed",
    "nps": "program cohort survey_id role n n_respondents promoters passives detractors nps "
    "nps_ci_low nps_ci_high suppressed",
    "survey_response_rates": "program cohort survey_id role invitations responses response_rate",
    "program_health": "program cohort active_matches on_track_share goal_attainment_rate "
    "goal_coverage satisfaction_respondents satisfaction_mean response_rate_90d health_score "
    "health_band",
    "at_risk_matches": "match_id status reason",
    "match_retention": "program cohort day matches at_risk closed_early completed early_closure "
    "early_closure_ci_low early_closure_ci_high survival ci_low ci_high",
    "match_closures": "program cohort matches ended completed closed_early early_closure_rate "
    "early_closure_ci_low early_closure_ci_high early_share_of_ended early_share_ci_low "
    "early_share_ci_high mentor_withdrew mentee_withdrew no_engagement "
    "rematched other unknown_reason median_days_to_early_closure",
    "match_design": "program attribute level matches ended closed_early early_closure_rate "
    "early_closure_ci_low early_closure_ci_high logrank_p logrank_p_holm "
    "cadence_attainment_mean goals_decided "
    "goal_attainment_rate goal_attainment_ci_low goal_attainment_ci_high",
    "survey_reliability": "program survey_id role n_complete n_respondents alpha alpha_ci_low "
    "alpha_ci_high",
}


def test_every_record_read_is_accounted_for(demo_run: DemoRun):
    files = demo_run.published(
        "SELECT count(*), sum(rows_read), sum(rows_loaded + rows_duplicate + rows_quarantined) "
        "FROM ingest.files"
    )[0]
    assert files[0] > 40 and files[1] == files[2]
    quarantined = demo_run.published(
        "SELECT (SELECT sum(rows_quarantined) FROM ingest.files), "
        "(SELECT count(*) FROM ingest.quarantine WHERE reason NOT LIKE 'file:%')"
    )[0]
    assert quarantined[0] == quarantined[1] > 0
    # Every non-blank line of every landing file was read, duplicates files aside.
    landing = demo_run.settings.landing_dir
    read_per_file = dict(
        demo_run.published("SELECT path, rows_read FROM ingest.files WHERE status = 'loaded'")
    )
    for path, rows_read in read_per_file.items():
        file = landing / path
        if file.suffix == ".jsonl":
            expected = sum(1 for line in file.read_text().splitlines() if line.strip())
        else:
            with file.open(newline="", encoding="utf-8-sig") as handle:
                expected = sum(1 for row in csv.reader(handle) if any(row)) - 1
        assert rows_read == expected, path


def test_the_dirty_sample_exercises_the_rules(demo_run: DemoRun):
    reasons = {r for (r,) in demo_run.published("SELECT DISTINCT reason FROM ingest.quarantine")}
    assert {"malformed", "conflicting_duplicate"} <= reasons
    assert any(r.startswith("bad_value:") for r in reasons)
    assert any(r.startswith("missing_field:") for r in reasons)
    statuses = {s for (s,) in demo_run.published("SELECT DISTINCT status FROM ingest.files")}
    assert "duplicate_file" in statuses
    assert demo_run.published("SELECT sum(rows_duplicate) FROM ingest.files")[0][0] > 0


def test_demo_output_reports_files_reasons_and_where_to_look(demo_run: DemoRun):
    assert "quarantined" in demo_run.output
    assert "malformed" in demo_run.output
    assert str(demo_run.settings.published_path) in demo_run.output
    assert "dashboards" in demo_run.output.lower()


def test_no_personal_data_in_the_published_warehouse(demo_run: DemoRun):
    landing = demo_run.settings.landing_dir
    secrets: set[str] = set()
    for path in landing.glob("roster/participants*.csv"):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                secrets |= {row.get("full_name") or "", row.get("email") or ""}
                secrets.add(row.get("participant_id") or "")
    for path in landing.glob("meetings/*.jsonl"):
        for line in path.read_text().splitlines():
            try:
                note = json.loads(line).get("note")
            except (json.JSONDecodeError, AttributeError):
                continue
            if note and len(note) > 12:
                secrets.add(note)
    for path in landing.glob("surveys/responses*.csv"):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            secrets |= {r.get("comment") or "" for r in csv.DictReader(handle) if r}
    secrets = {s for s in secrets if len(s) >= 6}
    assert len(secrets) > 100

    with duckdb.connect(str(demo_run.settings.published_path), read_only=True) as con:
        schemas = {
            s for (s,) in con.execute("SELECT DISTINCT schema_name FROM duckdb_tables()").fetchall()
        }
        assert schemas == {"ingest", "core", "marts"}
        text_columns = con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE data_type = 'VARCHAR'"
        ).fetchall()
        published_text = set()
        for schema, table, column in text_columns:
            published_text |= {
                v
                for (v,) in con.execute(
                    f'SELECT DISTINCT "{column}" FROM {schema}.{table}'
                ).fetchall()
                if v
            }
    blob = "\n".join(published_text)
    leaked = sorted(s for s in secrets if s in blob)
    assert leaked == []


def test_restricted_files_are_private(demo_run: DemoRun):
    restricted = demo_run.settings.restricted_dir
    assert restricted.stat().st_mode & 0o777 == 0o700
    assert (restricted / "pseudonym.key").stat().st_mode & 0o777 == 0o600
    assert (restricted / "pipeline.duckdb").stat().st_mode & 0o777 == 0o600


def test_marts_have_the_contract_columns_and_comments(demo_run: DemoRun):
    for table, columns in METRICS_COLUMNS.items():
        found = [
            c
            for (c,) in demo_run.published(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' "
                "AND table_name = ? ORDER BY column_index",
                [table],
            )
        ]
        assert set(columns.split()) <= set(found), table
        assert demo_run.published(f"SELECT count(*) FROM marts.{table}")[0][0] > 0, table
    uncommented = demo_run.published(
        "SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns() "
        "WHERE schema_name IN ('ingest', 'core', 'marts') AND (comment IS NULL OR comment = '')"
    )
    assert uncommented == []
    assert demo_run.published("SELECT count(*) FROM duckdb_tables() WHERE comment IS NULL") == [
        (0,)
    ]


def test_every_status_and_band_shows_up(demo_run: DemoRun):
    statuses = {s for (s,) in demo_run.published("SELECT DISTINCT status FROM marts.match_cadence")}
    assert statuses == {"ended", "too_early", "not_started", "lapsed", "at_risk", "on_track"}
    goal_statuses = {
        s for (s,) in demo_run.published("SELECT DISTINCT status FROM marts.goal_status")
    }
    assert goal_statuses == {"open", "achieved", "abandoned"}
    assert demo_run.published("SELECT count(*) FROM marts.goal_status WHERE is_overdue")[0][0] > 0
    assert (
        demo_run.published("SELECT count(*) FROM marts.feedback_scores WHERE suppressed")[0][0] > 0
    )


def test_parquet_exports_match_the_marts(demo_run: DemoRun):
    parquet_dir = demo_run.settings.parquet_dir
    for table in METRICS_COLUMNS:
        frame = pl.read_parquet(parquet_dir / f"{table}.parquet")
        assert frame.height == demo_run.published(f"SELECT count(*) FROM marts.{table}")[0][0]


def test_cookbook_recipes_run_on_the_sample_warehouse(demo_run: DemoRun):
    recipes = sorted((REPO / "cookbook").glob("*.sql"))
    assert len(recipes) >= 5
    with duckdb.connect(str(demo_run.settings.published_path), read_only=True) as con:
        for recipe in recipes:
            text = recipe.read_text()
            assert text.startswith("-- "), f"{recipe.name} starts with the question it answers"
            con.execute(text).fetchall()
    some = run_recipe(demo_run, "pairs_without_meeting_45_days.sql")
    assert some, "the sample has quiet pairs"


def run_recipe(demo_run: DemoRun, name: str) -> list[tuple]:
    return demo_run.published((REPO / "cookbook" / name).read_text())


def test_data_dictionary_in_docs_is_generated_from_the_comments():
    committed = (REPO / "docs" / "data_dictionary.md").read_text()
    assert committed == dictionary_markdown(), "run `make docs` to regenerate it"


def _marts_snapshot(path: Path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1"
            ).fetchall()
        ]
        return {
            t: sorted(map(repr, con.execute(f"SELECT * FROM marts.{t}").fetchall())) for t in tables
        }


def test_same_inputs_same_marts_whatever_the_arrival_order(demo_run: DemoRun, tmp_path: Path):
    """Files landed in reverse order, a few runs apart, give the very same marts."""
    key = (demo_run.settings.restricted_dir / "pseudonym.key").read_text()
    data_dir = tmp_path / "data"
    env = demo_env(data_dir, MENTORPULSE_PSEUDONYM_KEY=key)
    files = sorted(demo_run.settings.landing_dir.rglob("*.*"), key=lambda p: p.name, reverse=True)
    batches = [files[: len(files) // 3], files[len(files) // 3 :]]
    for batch in batches:
        for path in batch:
            target = data_dir / "landing" / path.relative_to(demo_run.settings.landing_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        completed = run_cli(env, "run")
        assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    rerun = _marts_snapshot(data_dir / "warehouse" / "mentoring.duckdb")
    reference = _marts_snapshot(demo_run.settings.published_path)
    for table in reference:
        assert rerun[table] == reference[table], table


def test_bad_setting_is_a_clear_error(tmp_path: Path):
    completed = run_cli(demo_env(tmp_path, MENTORPULSE_AS_OF="31/12/2026"), "run")
    assert completed.returncode == 2
    assert "MENTORPULSE_AS_OF" in completed.stderr and "YYYY-MM-DD" in completed.stderr
    assert re.search(r"Traceback", completed.stderr) is None


def test_every_source_has_a_published_file_row(demo_run: DemoRun):
    sources = {s for (s,) in demo_run.published("SELECT DISTINCT source FROM ingest.files")}
    assert {"participants", "matches", "meetings", "goals", "responses", "invitations"} <= sources


def test_demo_runs_twice(demo_run: DemoRun):
    """The second demo finds the sample data in place, loads nothing new and recomputes."""
    files_before = demo_run.published("SELECT count(*) FROM ingest.files")
    again = run_cli(demo_run.env, "demo")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "not generating again" in again.stdout
    assert "No new files" in again.stdout
    assert demo_run.published("SELECT count(*) FROM ingest.files") == files_before


def test_serve_offers_the_dashboards_on_loopback(demo_run: DemoRun):
    mentorpulse = Path(sys.executable).with_name("mentorpulse")
    server = subprocess.Popen(
        [str(mentorpulse), "serve", "--port", "0"],
        env=demo_run.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url + "overview.html", timeout=10) as response:
            assert response.status == 200
            assert "data as of" in response.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_run_makes_its_dagster_home_and_records_the_run(tmp_path: Path):
    """`make demo` exports a DAGSTER_HOME under the data root that does not exist yet."""
    home = tmp_path / "data" / "dagster_home"
    env = demo_env(tmp_path / "data", DAGSTER_HOME=str(home), MENTORPULSE_AS_OF="2026-03-15")
    shutil.copytree(EXAMPLES, tmp_path / "data" / "landing")
    completed = run_cli(env, "run")
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert (home / "dagster.yaml").read_text() == (REPO / "pipelines" / "dagster.yaml").read_text()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (record,) = instance.get_run_records()
        assert record.dagster_run.job_name == "refresh_all"
        assert record.dagster_run.is_success
        # The UI re-executes a run in the code location its origin names (workspace.yaml).
        origin = record.dagster_run.remote_job_origin
        repository = origin.repository_origin
        assert (
            repository.code_location_origin.location_name,
            repository.repository_name,
            origin.job_name,
        ) == (
            "mentorpulse",
            "__repository__",
            "refresh_all",
        )


def test_demo_outcomes_show_real_curves_and_differences(demo_run: DemoRun):
    """The sample's outcome marts give the Outcomes page something to show (issue 12)."""
    falling = demo_run.published(
        "SELECT count(DISTINCT program) FROM marts.match_retention "
        "WHERE cohort = '(all)' AND day = 180 AND survival < 0.95 AND ci_low < survival"
    )[0][0]
    programs = demo_run.published("SELECT count(DISTINCT program) FROM core.matches")[0][0]
    assert falling == programs
    reasons = demo_run.published(
        "SELECT sum(mentor_withdrew), sum(mentee_withdrew), sum(no_engagement), sum(rematched), "
        "sum(other), sum(unknown_reason) FROM marts.match_closures WHERE cohort = '(all)'"
    )[0]
    assert all(count > 0 for count in reasons)
    levels = demo_run.published(
        "SELECT attribute, count(*) FROM marts.match_design WHERE program = '(all)' "
        "AND level <> 'unknown' AND matches >= 20 GROUP BY ALL ORDER BY 1"
    )
    assert levels == [("department", 2), ("location", 2), ("mentor_load", 3)]
    alphas = demo_run.published("SELECT count(alpha) FROM marts.survey_reliability")[0][0]
    assert alphas > 0
