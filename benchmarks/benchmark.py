"""Mentor Pulse benchmark: the whole pipeline at a profile's scale, against a raw DuckDB floor.

    .venv/bin/python benchmarks/benchmark.py --profile small|medium|large [--data-dir DIR] [--keep]

1. Generates the profile's landing files (or reuses them: `--data-dir` holding `landing/`).
2. Full build from empty: `mentorpulse run` for the history's last day, in a fresh data root.
3. The floor: benchmarks/floor.sql, one DuckDB script over the same raw files (same as-of date)
   computing match_cadence, goal_status and feedback_scores, compared row by row with the
   pipeline's marts.
4. Incremental run: one more day of files lands (`generate_day`), then a run for that day.
5. Nightly run: the day after, nothing new.
6. Targets: each run's wall time over the floor's (this benchmark's own floor): full build
   <= 5x, one day's files <= 1.5x, nightly <= 1x; peak RSS of any run <= 2 GB.

Every measured run is a fresh process started through a small wrapper that reports the run's
own peak RSS (`ru_maxrss` of its only child) and samples its RSS every 0.1 s, so each stage
gets its own peak. The stage breakdown comes from the Dagster run's step timings, read from
the instance the run was stored in (`DAGSTER_HOME` under the data root). Prints one plain-text
table and saves it, with the raw figures as JSON, under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

FLOOR_SQL = Path(__file__).with_name("floor.sql")
RESULTS_DIR = Path(__file__).with_name("results")
MANIFEST_NAME = ".sample_data.json"  # left by the generator
ADDED_MARKER = ".benchmark_added.json"  # files this benchmark added to a reused landing
MB = 1024 * 1024

# Issue 13's targets: each run's wall time over the floor's time measured in the same benchmark
# (cost in proportion to what changed), and the peak RSS of any run.
TARGET_OVER_FLOOR = {"full": 5.0, "incremental": 1.5, "nightly": 1.0}
TARGET_PEAK_RSS_MB = 2 * 1024
TARGET_PAGE_BYTES = 3 * MB

# Stages of a run, in the order they run, and how a Dagster step is assigned to one (by the
# part of its step key before "__"). A step of no known stage is shown as "other steps".
STAGES = (
    ("ingest", "ingest (staging/*)"),
    ("core", "keys + core (restricted/*, core/*)"),
    ("tables", "core + marts tables, one step (warehouse_tables)"),
    ("marts", "marts (marts/*)"),
    ("early_warning", "early warning (early_warning)"),
    ("outcomes", "outcome marts (outcome_marts)"),
    ("checks", "checks (asset check steps)"),
    ("publish", "publish (warehouse/published)"),
    ("dashboards", "dashboards (dashboards/pages)"),
    ("other", "other steps"),
)
STAGE_PREFIXES = {
    "staging": "ingest",
    "restricted": "core",
    "core": "core",
    "warehouse_tables": "tables",  # one step building every core and mart table in order
    "marts": "marts",
    "early_warning": "early_warning",  # builds marts.match_risk and marts.risk_backtest
    "outcome_marts": "outcomes",  # builds the four outcome marts (statsmodels, scipy)
    "warehouse": "publish",
    "dashboards": "dashboards",
}

# Runs the command given after its two arguments (result file, log file) as its only child,
# samples the child's RSS, and reports the child's own peak RSS: RUSAGE_CHILDREN of a process
# that has exactly one child is that child's figure (a max over all children would not be).
WRAPPER = textwrap.dedent(
    """
    import json, resource, subprocess, sys, time
    out, log, *command = sys.argv[1:]
    samples = []
    with open(log, "wb") as handle:
        started_at = time.time()
        clock = time.perf_counter()
        child = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
        status = f"/proc/{child.pid}/status"
        while child.poll() is None:
            try:
                with open(status) as proc:
                    for line in proc:
                        if line.startswith("VmRSS:"):
                            samples.append((time.time(), int(line.split()[1])))
                            break
            except OSError:
                pass
            time.sleep(0.1)
        wall = time.perf_counter() - clock
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as handle:
        json.dump({"returncode": child.returncode, "started_at": started_at, "wall": wall,
                   "maxrss_kb": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime,
                   "samples": samples}, handle)
    """
)

# The floor's process: an in-memory DuckDB runs floor.sql in the landing directory (its globs
# are relative), the repeat block until stable; then, untimed, compares with the pipeline.
FLOOR_CHILD = textwrap.dedent(
    """
    import json, os, re, sys, time
    import duckdb
    out, script, landing, as_of, timezone, k, lapse, grace, target, published = sys.argv[1:]
    sql = open(script, encoding="utf-8").read()
    before, rest = sql.split("-- @repeat-until-stable", 1)
    block, after = rest.split("-- @end-repeat", 1)
    def code(text):
        return any(l.strip() and not l.strip().startswith("--") for l in text.splitlines())
    repeated = [s for s in re.split(r";\\s*\\n", block + "\\n") if code(s)]
    os.chdir(landing)
    con = duckdb.connect()
    def run(query, params=None):
        result = con.execute(query, params) if params is not None else con.execute(query)
        return result.fetchall() if result is not None else []
    # The t quantile of the survey intervals (scipy, as the pipeline's t_quantile_975).
    from duckdb.sqltypes import DOUBLE
    from scipy.stats import t as student_t
    con.create_function(
        "t_quantile_975",
        lambda df: None if df is None or df < 1 else float(student_t.ppf(0.975, df)),
        [DOUBLE], DOUBLE, null_handling="special")
    clock = time.perf_counter()
    run("SET TimeZone = ?", [timezone])
    for name, value in (("as_of", f"DATE '{as_of}'"), ("min_group_size", int(k)),
                        ("lapse_days", int(lapse)), ("first_meeting_grace_days", int(grace)),
                        ("default_target_per_month", f"{float(target)}::DOUBLE")):
        run(f"SET VARIABLE {name} = {value}")
    run(before)
    passes = 0
    while True:
        passes += 1
        if sum(run(statement)[0][0] for statement in repeated) == 0:
            break
    if code(after):
        run(after)
    seconds = time.perf_counter() - clock
    keys = {"match_cadence": ["match_id"], "goal_status": ["goal_id"],
            "feedback_scores": ["program", "cohort", "survey_id", "role", "item"]}
    result = {"seconds": seconds, "passes": passes, "tables": {}}
    if published != "-" and os.path.exists(published):
        run(f"ATTACH '{published}' AS pipeline (READ_ONLY)")
    for table in keys:
        entry = {"floor_rows": run(f"SELECT count(*) FROM {table}")[0][0]}
        if published != "-" and os.path.exists(published):
            columns = run(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = "
                "'pipeline' AND schema_name = 'marts' AND table_name = ? ORDER BY column_index",
                [table])
            # Keys are pseudonyms in the pipeline and raw ids in the floor; DOUBLEs are
            # compared to 9 decimals (summation order moves the last bits).
            select = ", ".join(f"round({c}, 9) AS {c}" if t == "DOUBLE" else c
                               for c, t in columns if c not in ("mentor_key", "mentee_key"))
            entry["pipeline_rows"] = run(f"SELECT count(*) FROM pipeline.marts.{table}")[0][0]
            entry["mismatched_rows"] = run(
                f"SELECT count(*) FROM (SELECT {select} FROM {table} EXCEPT ALL "
                f"SELECT {select} FROM pipeline.marts.{table})")[0][0]
        result["tables"][table] = entry
    with open(out, "w") as handle:
        json.dump(result, handle)
    """
)


# --- measured processes -----------------------------------------------------------------


@dataclass
class Measured:
    name: str
    returncode: int
    started_at: float  # epoch seconds
    wall: float
    cpu: float
    peak_rss_mb: float
    samples: list[tuple[float, int]]  # (epoch seconds, RSS KB)
    log: str
    load_before: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def peak_between(self, start: float, end: float) -> float | None:
        values = [kb for at, kb in self.samples if start <= at <= end]
        return max(values) / 1024 if values else None


def measure(name: str, command: list[str], env: dict, cwd: Path, logs: Path) -> Measured:
    """Run `command` in a fresh process (through the wrapper) and measure it."""
    logs.mkdir(parents=True, exist_ok=True)
    out, log = logs / f"{name}.json", logs / f"{name}.log"
    load_before = os.getloadavg()[0]
    subprocess.run(
        [sys.executable, "-c", WRAPPER, str(out), str(log), *command],
        env=env,
        cwd=cwd,
        check=True,
    )
    data = json.loads(out.read_text())
    return Measured(
        name=name,
        returncode=data["returncode"],
        started_at=data["started_at"],
        wall=data["wall"],
        cpu=data["cpu"],
        peak_rss_mb=data["maxrss_kb"] / 1024,
        samples=[tuple(s) for s in data["samples"]],
        log=str(log),
        load_before=load_before,
    )


# --- the Dagster run's steps ------------------------------------------------------------


@dataclass
class Step:
    key: str
    stage: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class RunSteps:
    run_id: str
    status: str
    start: float
    end: float
    steps: list[Step]


def stage_of(step_key: str, is_check: bool) -> str:
    if is_check:
        return "checks"
    return STAGE_PREFIXES.get(step_key.split("__", 1)[0], "other")


def latest_run_steps(dagster_home: Path) -> RunSteps | None:
    """Step timings of the newest run stored in the instance at dagster_home."""
    from dagster import DagsterEventType, DagsterInstance

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return None
        run = runs[0]
        stats = instance.get_run_stats(run.run_id)
        events = instance.all_logs(
            run.run_id,
            of_type={
                DagsterEventType.ASSET_MATERIALIZATION,
                DagsterEventType.ASSET_CHECK_EVALUATION,
            },
        )
        materializing = {e.step_key for e in events if e.dagster_event.is_step_materialization}
        checking = {e.step_key for e in events} - materializing
        steps = [
            Step(s.step_key, stage_of(s.step_key, s.step_key in checking), s.start_time, s.end_time)
            for s in instance.get_run_step_stats(run.run_id)
            if s.start_time is not None and s.end_time is not None
        ]
    return RunSteps(run.run_id, run.status.value, stats.start_time, stats.end_time, steps)


# --- one pipeline run -------------------------------------------------------------------


@dataclass
class StageRow:
    stage: str
    label: str
    seconds: float
    peak_rss_mb: float | None
    steps: int


@dataclass
class PipelineRun:
    name: str
    label: str
    as_of: str
    measured: Measured
    records: int  # records read from the files ingested by this run
    files: int
    stages: list[StageRow] = field(default_factory=list)
    steps_seconds: float = 0.0
    dagster_seconds: float = 0.0  # run start .. end, minus the steps
    process_seconds: float = 0.0  # interpreter, imports, definitions, report: wall minus run
    before_run_seconds: float = 0.0  # process start .. the run's start (of process_seconds)
    slowest_steps: list[tuple[str, float]] = field(default_factory=list)
    run_id: str | None = None
    # status (built, reused, ...) -> (tables, seconds) of the SQL tables this run considered
    table_builds: dict[str, tuple[int, float]] = field(default_factory=dict)


def run_pipeline(
    name: str, label: str, as_of: dt.date, root: Path, env: dict, logs: Path
) -> PipelineRun:
    run_env = {**env, "MENTORPULSE_AS_OF": as_of.isoformat()}
    measured = measure(name, mentorpulse_command("run"), run_env, REPO, logs)
    result = PipelineRun(name, label, as_of.isoformat(), measured, 0, 0)
    records, files = ingested_since(root / "warehouse" / "mentoring.duckdb", measured.started_at)
    result.records, result.files = records, files
    run = latest_run_steps(root / "dagster_home")
    if run is None:
        return result
    result.run_id = run.run_id
    for stage, stage_label in STAGES:
        steps = [s for s in run.steps if s.stage == stage]
        if not steps:
            continue
        peaks = [p for s in steps if (p := measured.peak_between(s.start, s.end)) is not None]
        result.stages.append(
            StageRow(
                stage,
                stage_label,
                sum(s.seconds for s in steps),
                max(peaks) if peaks else None,
                len(steps),
            )
        )
    result.steps_seconds = sum(s.seconds for s in run.steps)
    result.dagster_seconds = max(0.0, (run.end - run.start) - result.steps_seconds)
    result.process_seconds = max(0.0, measured.wall - (run.end - run.start))
    result.before_run_seconds = max(0.0, run.start - measured.started_at)
    slowest = sorted(run.steps, key=lambda s: s.seconds, reverse=True)[:8]
    result.slowest_steps = [(s.key, s.seconds) for s in slowest]
    result.table_builds = table_builds(root / "warehouse" / "mentoring.duckdb", run.run_id)
    return result


def mentorpulse_command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("mentorpulse")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "pipelines.cli", *args]


def ingested_since(published: Path, since: float) -> tuple[int, int]:
    """Records read and files ingested at or after `since`, from the published ingest.files."""
    import duckdb

    if not published.exists():
        return 0, 0
    moment = dt.datetime.fromtimestamp(since, dt.UTC)
    with duckdb.connect(str(published), read_only=True) as con:
        result = con.execute(
            "SELECT coalesce(sum(rows_read), 0), count(*) FROM ingest.files WHERE ingested_at >= ?",
            [moment],
        )
        records, files = result.fetchall()[0]
    return int(records), int(files)


def table_builds(published: Path, run_id: str) -> dict[str, tuple[int, float]]:
    """SQL tables (dbt models) the run built or left behind, with their seconds,
    from the published ingest.table_builds (empty when the pipeline keeps no such table). The
    early warning's two marts, which its own step builds together, have a row of their own."""
    import duckdb

    from assets.warehouse.dbt_project import models

    if not published.exists():
        return {}
    with duckdb.connect(str(published), read_only=True) as con:
        try:
            result = con.execute(
                "SELECT status, count(*), coalesce(sum(seconds), 0) FROM ingest.table_builds "
                "WHERE considered_in_run = ? AND table_name IN (SELECT unnest(?)) "
                "GROUP BY status ORDER BY count(*) DESC",
                [run_id, list(models())],
            )
        except duckdb.CatalogException:
            return {}
        return {status: (int(n), float(seconds)) for status, n, seconds in result.fetchall()}


def records_by_source(published: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(published), read_only=True) as con:
        result = con.execute("SELECT source, sum(rows_read) FROM ingest.files GROUP BY source")
        return {source: int(n or 0) for source, n in result.fetchall()}


# --- the floor --------------------------------------------------------------------------


@dataclass
class FloorRun:
    measured: Measured
    seconds: float  # the SQL script alone (no interpreter start)
    passes: int
    tables: dict[str, dict[str, int]]
    records: int


def run_floor(
    landing: Path, as_of: dt.date, settings, published: Path, env: dict, logs: Path, records: int
) -> FloorRun:
    out = logs / "floor_result.json"
    out.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-c",
        FLOOR_CHILD,
        str(out),
        str(FLOOR_SQL),
        str(landing),
        as_of.isoformat(),
        settings.timezone,
        str(settings.min_group_size),
        str(settings.lapse_days),
        str(settings.first_meeting_grace_days),
        str(settings.default_target_per_month),
        str(published) if published.exists() else "-",
    ]
    measured = measure("floor", command, env, REPO, logs)
    if not measured.ok or not out.exists():
        return FloorRun(measured, float("nan"), 0, {}, records)
    data = json.loads(out.read_text())
    return FloorRun(measured, data["seconds"], data["passes"], data["tables"], records)


# --- data -------------------------------------------------------------------------------


@dataclass
class Landing:
    path: Path
    profile: str
    seed: int
    end_date: dt.date
    generated_seconds: float | None  # None when reused
    files: int
    bytes: int


def landing_files(landing: Path) -> set[Path]:
    return {
        p
        for p in landing.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(landing).parts)
    }


def remove_added(landing: Path) -> None:
    """Remove the day files a previous (perhaps interrupted) benchmark added to this landing."""
    marker = landing / ADDED_MARKER
    if not marker.exists():
        return
    for relative in json.loads(marker.read_text()):
        (landing / relative).unlink(missing_ok=True)
    marker.unlink()


def prepare_landing(landing: Path, profile: str, seed: int) -> Landing:
    from sample_data.generator import DEFAULT_END_DATE, generate

    manifest = landing / MANIFEST_NAME
    generated = None
    if manifest.exists():
        remove_added(landing)
        info = json.loads(manifest.read_text())
        if (info["profile"], info["seed"]) != (profile, seed):
            raise SystemExit(
                f"{landing} holds profile {info['profile']!r} (seed {info['seed']}), not "
                f"{profile!r} (seed {seed}): use another --data-dir"
            )
        end_date = dt.date.fromisoformat(info["end_date"])
        print(f"Reusing the {profile} landing files in {landing}", flush=True)
    else:
        if landing.exists() and any(landing_files(landing)):
            raise SystemExit(f"{landing} holds files but no generator manifest: not reusing it")
        print(f"Generating the {profile} profile into {landing} ...", flush=True)
        clock = time.perf_counter()
        summary = generate(
            landing,
            profile=profile,
            seed=seed,
            progress=lambda line: None,
            end_date=DEFAULT_END_DATE,
        )
        generated = time.perf_counter() - clock
        end_date = summary.end_date
        print(f"  generated in {generated:.1f} s", flush=True)
    files = landing_files(landing)
    return Landing(
        landing,
        profile,
        seed,
        end_date,
        generated,
        len(files),
        sum(p.stat().st_size for p in files),
    )


def land_one_day(landing: Landing, day: dt.date, record_added: bool) -> tuple[list[Path], int]:
    """Write one more day of files; returns them and their record count."""
    from sample_data.generator import generate_day

    before = landing_files(landing.path)
    summary = generate_day(landing.path, day, profile=landing.profile, seed=landing.seed)
    added = sorted(landing_files(landing.path) - before)
    if record_added:
        marker = landing.path / ADDED_MARKER
        marker.write_text(json.dumps([p.relative_to(landing.path).as_posix() for p in added]))
    return added, summary.total_records


# --- sizes ------------------------------------------------------------------------------


@dataclass
class Sizes:
    warehouse_mb: float
    working_db_mb: float
    parquet_mb: float
    parquet_files: int
    pages_kb: dict[str, float]
    plotly_js_kb: float


def measure_sizes(root: Path) -> Sizes:
    def size(path: Path) -> int:
        return path.stat().st_size if path.exists() else 0

    parquet = sorted((root / "warehouse" / "parquet").glob("*.parquet"))
    pages = sorted((root / "dashboards").rglob("*.html"))  # restricted/ and digest/ too
    return Sizes(
        warehouse_mb=size(root / "warehouse" / "mentoring.duckdb") / MB,
        working_db_mb=size(root / "restricted" / "pipeline.duckdb") / MB,
        parquet_mb=sum(size(p) for p in parquet) / MB,
        parquet_files=len(parquet),
        pages_kb={p.relative_to(root / "dashboards").as_posix(): size(p) / 1024 for p in pages},
        plotly_js_kb=sum(size(p) for p in (root / "dashboards").glob("*.js")) / 1024,
    )


# --- the report -------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:,.2f}"


def _mb(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def _rate(records: int, seconds: float) -> str:
    if not records or seconds <= 0:
        return "-"
    rate = records / seconds
    return f"{rate:,.0f}" if rate >= 10 else f"{rate:.1f}"  # a small day on a slow machine


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole > 0 else "-"


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def format_table(rows: Iterable[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    rows = [header, *rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for number, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _part(label: str, seconds: float, whole: float, rss: float | None = None) -> tuple[str, ...]:
    """A row for a part of a run: its seconds, share of the run and peak RSS."""
    return (label, _seconds(seconds), _share(seconds, whole), "", _mb(rss), "", "")


def run_rows(run: PipelineRun) -> list[tuple[str, ...]]:
    m = run.measured
    status = "" if m.ok else " FAILED"
    rate = _rate(run.records, m.wall)
    rows = [
        (
            f"{run.label}{status}",
            _seconds(m.wall),
            "100.0%",
            _seconds(m.cpu),
            _mb(m.peak_rss_mb),
            rate,
            f"{m.load_before:.2f}",
        )
    ]
    for stage in run.stages:
        rows.append(_part(f"  {stage.label}", stage.seconds, m.wall, stage.peak_rss_mb))
        if stage.stage == "tables":  # what the early cutoff did with each table
            rows += [
                _part(f"    of which {n} tables {status}", seconds, m.wall)
                for status, (n, seconds) in run.table_builds.items()
            ]
    overhead = m.wall - run.steps_seconds
    rows.append(_part("  Dagster overhead (wall - sum of steps)", overhead, m.wall))
    rows.append(_part("    of which process start, imports, report", run.process_seconds, m.wall))
    before, after = run.before_run_seconds, max(0.0, run.process_seconds - run.before_run_seconds)
    rows.append(_part("      before the run starts (imports, instance)", before, m.wall))
    rows.append(_part("      after the run ends (the CLI's report)", after, m.wall))
    rows.append(_part("    of which between steps, in the run", run.dagster_seconds, m.wall))
    return rows


def build_report(
    profile: str,
    landing: Landing,
    tz: str,
    runs: dict[str, PipelineRun],
    floor: FloorRun | None,
    sizes: Sizes | None,
    command: str,
) -> tuple[list[str], dict]:
    from sample_data.generator import PROFILES

    info = PROFILES[profile]
    full, incremental, nightly = runs.get("full"), runs.get("incremental"), runs.get("nightly")
    lines = [
        f"Mentor Pulse benchmark - profile {profile} ({info.matches:,} matches, "
        f"{info.months} months), seed {landing.seed}, time zone {tz}",
        f"command: {command}",
        f"machine: {os.cpu_count()} CPUs, {_total_memory_gb():.1f} GB RAM, "
        f"Python {sys.version.split()[0]}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"landing: {landing.files:,} files, {landing.bytes / MB:,.1f} MB, as of {landing.end_date}; "
        + (
            f"generated in {landing.generated_seconds:.1f} s"
            if landing.generated_seconds is not None
            else "reused"
        ),
        "",
    ]
    header = ("run / stage", "seconds", "share", "cpu s", "peak RSS MB", "records/s", "load")
    rows: list[tuple[str, ...]] = []
    for run in (full, incremental, nightly):
        if run is not None:
            rows.extend(run_rows(run))
    if floor is not None:
        m = floor.measured
        rows.append(
            (
                "floor (benchmarks/floor.sql)" + ("" if m.ok else " FAILED"),
                _seconds(floor.seconds),
                "",
                _seconds(m.cpu),
                _mb(m.peak_rss_mb),
                _rate(floor.records, floor.seconds),
                f"{m.load_before:.2f}",
            )
        )
        rows.append(("  floor process wall (interpreter + script)", _seconds(m.wall)) + ("",) * 5)
    lines += format_table(rows, header)
    lines.append(
        "(share: of the run's wall time; records/s: records read from the files the run "
        "ingested; load: 1-min load average when the run started)"
    )

    if full is not None and full.slowest_steps:
        lines += ["", "slowest steps of the full build:"]
        lines += [f"  {key:<52} {seconds:>9.2f} s" for key, seconds in full.slowest_steps]

    if incremental is not None:
        lines += [
            "",
            f"incremental: {incremental.files} new files, {incremental.records:,} records, "
            f"as of {incremental.as_of}; nightly: as of {nightly.as_of if nightly else '-'}",
        ]

    if sizes is not None:
        lines += ["", "sizes after the full build:"]
        size_rows = [
            ("published warehouse (warehouse/mentoring.duckdb)", f"{sizes.warehouse_mb:,.1f} MB"),
            ("working database (restricted/pipeline.duckdb)", f"{sizes.working_db_mb:,.1f} MB"),
            (f"parquet ({sizes.parquet_files} files)", f"{sizes.parquet_mb:,.1f} MB"),
        ]
        size_rows += [(f"page {name}", f"{kb:,.0f} KB") for name, kb in sizes.pages_kb.items()]
        size_rows.append(("plotly.min.js (shared, not counted)", f"{sizes.plotly_js_kb:,.0f} KB"))
        lines += format_table(size_rows, ("file", "size"))

    if floor is not None and floor.tables:
        lines += ["", f"floor vs pipeline marts (as of {landing.end_date}):"]
        agreement = []
        for table, entry in floor.tables.items():
            agreement.append(
                (
                    table,
                    f"{entry.get('floor_rows', 0):,}",
                    f"{entry['pipeline_rows']:,}" if "pipeline_rows" in entry else "-",
                    f"{entry['mismatched_rows']:,}" if "mismatched_rows" in entry else "-",
                )
            )
        lines += format_table(agreement, ("table", "floor rows", "pipeline rows", "differing"))

    figures: dict[str, float | None] = {}
    # (figure key, label, value, value shown, target shown, met) for each figure measured
    checks: list[tuple[str, str, float, str, str, bool]] = []
    floor_ok = floor is not None and floor.measured.ok and floor.seconds == floor.seconds
    for name, target in TARGET_OVER_FLOOR.items():
        run = runs.get(name)
        if run is not None and floor_ok:
            ratio = run.measured.wall / floor.seconds
            checks.append(
                (
                    f"{name}_over_floor",
                    f"{run.label} / floor",
                    ratio,
                    f"{ratio:.1f}x",
                    f"<= {target:g}x",
                    ratio <= target,
                )
            )
    peaks = [r.measured.peak_rss_mb for r in runs.values()]
    if peaks:
        peak = max(peaks)
        checks.append(
            (
                "peak_rss_mb",
                "peak RSS, any pipeline run",
                peak,
                f"{peak:,.0f} MB",
                f"<= {TARGET_PEAK_RSS_MB:,} MB",
                peak <= TARGET_PEAK_RSS_MB,
            )
        )
    if sizes is not None and sizes.pages_kb:
        page, kb = max(sizes.pages_kb.items(), key=lambda item: item[1])
        checks.append(
            (
                "largest_page_kb",
                f"largest dashboard page ({page})",
                kb,
                f"{kb:,.0f} KB",
                f"<= {TARGET_PAGE_BYTES // 1024:,} KB",
                kb * 1024 <= TARGET_PAGE_BYTES,
            )
        )
    targets = []
    for key, label, value, shown, target_shown, met in checks:
        figures[key] = value
        targets.append((label, shown, target_shown, _verdict(met)))
    if targets:
        lines += [""]
        lines += format_table(targets, ("target", "figure", "target", "verdict"))

    data = {
        "profile": profile,
        "command": command,
        "time_zone": tz,
        "landing": {**asdict(landing), "path": str(landing.path)},
        "runs": {
            name: {
                **{k: v for k, v in asdict(run).items() if k != "measured"},
                "measured": {k: v for k, v in asdict(run.measured).items() if k != "samples"},
            }
            for name, run in runs.items()
        },
        "floor": None
        if floor is None
        else {
            **{k: v for k, v in asdict(floor).items() if k != "measured"},
            "measured": {k: v for k, v in asdict(floor.measured).items() if k != "samples"},
        },
        "sizes": None if sizes is None else asdict(sizes),
        "figures": figures,
    }
    return lines, json.loads(json.dumps(data, default=str))


def _total_memory_gb() -> float:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return float("nan")


# --- main -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from sample_data.generator import PROFILES

    parser = argparse.ArgumentParser(
        description="Time the whole pipeline (full build, incremental day, nightly) at a "
        "profile's scale against a raw DuckDB floor; print one table."
    )
    parser.add_argument("--profile", default="medium", choices=list(PROFILES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="directory whose landing/ holds (or receives) the generated profile, reused "
        "across benchmarks; the runs themselves always start from an empty data root",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data root")
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS_DIR,
        help="where the table (.txt) and the figures (.json) are saved",
    )
    parser.add_argument("--tmp-dir", type=Path, help="parent of the temporary data root")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "benchmarks/benchmark.py " + " ".join(sys.argv[1:] if argv is None else argv)
    from assets.settings import load_settings

    root = Path(tempfile.mkdtemp(prefix=f"mentorpulse-bench-{args.profile}-", dir=args.tmp_dir))
    shared_landing = args.data_dir is not None
    landing_dir = (args.data_dir / "landing") if shared_landing else (root / "landing")
    landing_dir = landing_dir.resolve()
    ok = False
    try:
        landing = prepare_landing(landing_dir, args.profile, args.seed)
        if shared_landing:
            (root / "landing").symlink_to(landing_dir, target_is_directory=True)
        home = root / "dagster_home"
        home.mkdir()
        shutil.copyfile(REPO / "pipelines" / "dagster.yaml", home / "dagster.yaml")
        env = {
            **os.environ,
            "MENTORPULSE_DATA_DIR": str(root),
            "MENTORPULSE_TIMEZONE": os.environ.get("MENTORPULSE_TIMEZONE") or "UTC",
            "DAGSTER_HOME": str(home),
            "PYTHONUNBUFFERED": "1",
            # The runs use the code beside this script, whatever else is installed.
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p
            ),
        }
        settings = load_settings({**env, "MENTORPULSE_AS_OF": landing.end_date.isoformat()})
        logs = root / "logs"
        runs: dict[str, PipelineRun] = {}

        print(f"Full build from empty, as of {landing.end_date} (data root {root}) ...", flush=True)
        runs["full"] = run_pipeline("full", "full build", landing.end_date, root, env, logs)
        _progress(runs["full"])
        published = root / "warehouse" / "mentoring.duckdb"
        sizes = measure_sizes(root)
        early_warning = time_early_warning(settings, landing.end_date)

        print("Floor: benchmarks/floor.sql over the same files ...", flush=True)
        by_source = records_by_source(published) if published.exists() else {}
        floor_records = sum(
            by_source.get(s, 0) for s in ("matches", "meetings", "goals", "responses")
        )
        floor = run_floor(
            root / "landing", landing.end_date, settings, published, env, logs, floor_records
        )
        print(f"  {floor.seconds:.2f} s", flush=True)

        day = landing.end_date + dt.timedelta(days=1)
        added, day_records = land_one_day(landing, day, record_added=shared_landing)
        print(f"Incremental: {len(added)} files, {day_records:,} records for {day} ...", flush=True)
        runs["incremental"] = run_pipeline(
            "incremental", "incremental (one day's files)", day, root, env, logs
        )
        _progress(runs["incremental"])

        night = day + dt.timedelta(days=1)
        print(f"Nightly: as of {night}, nothing new ...", flush=True)
        runs["nightly"] = run_pipeline("nightly", "nightly (nothing new)", night, root, env, logs)
        _progress(runs["nightly"])

        lines, data = build_report(
            args.profile, landing, env["MENTORPULSE_TIMEZONE"], runs, floor, sizes, command
        )
        lines += early_warning_lines(early_warning)
        data["early_warning"] = early_warning
        print("\n" + "\n".join(lines), flush=True)
        args.results_dir.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        base = args.results_dir / f"{args.profile}-{stamp}"
        base.with_suffix(".txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        base.with_suffix(".json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"\nSaved {base}.txt and .json", flush=True)
        ok = all(r.measured.ok for r in runs.values()) and floor.measured.ok
        if not ok:
            for run in [*runs.values(), floor]:
                measured = run.measured
                if not measured.ok:
                    tail = Path(measured.log).read_text(errors="replace")[-3000:]
                    print(f"\n{measured.name} FAILED (exit {measured.returncode}):\n{tail}")
    finally:
        if shared_landing:
            remove_added(landing_dir)
        if args.keep:
            print(f"Kept the data root {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0 if ok else 1


def time_early_warning(settings, as_of: dt.date) -> dict[str, float | int]:
    """The early warning's parts on the full build's working DB (a copy, so nothing else is
    touched): snapshot building, fitting on every labelled snapshot, scoring the matches at
    D, and the whole back-test (a fit per test month). In this process, wall seconds."""
    import duckdb
    import polars as pl

    from assets.settings import bind_settings
    from assets.warehouse import early_warning as ew

    if not settings.working_db_path.exists():  # the full build failed: reported elsewhere
        return {}
    print("Early warning: snapshots, fit, score, back-test ...", flush=True)
    copy = settings.working_db_path.with_name("early_warning_bench.duckdb")
    shutil.copyfile(settings.working_db_path, copy)
    con = duckdb.connect(str(copy))
    try:
        bind_settings(con, settings.with_as_of(as_of))
        started = time.perf_counter()
        snapshots = ew.build_snapshots(con)
        built = time.perf_counter()
        labelled = snapshots.filter(pl.col("label_known"))
        model = ew.fit(labelled) if ew.too_short_reason(labelled) is None else None
        fitted = time.perf_counter()
        current = snapshots.filter(pl.col("snapshot_on") == as_of)
        if model is not None:
            ew.predict(model, current)
            ew.reasons(model, current)
        scored = time.perf_counter()
        ew.backtest(snapshots)
        done = time.perf_counter()
    finally:
        con.close()
        copy.unlink(missing_ok=True)
    return {
        "snapshots": snapshots.height,
        "labelled_snapshots": labelled.height,
        "scored_matches": current.height,
        "fitted": model is not None,
        "snapshot_seconds": built - started,
        "fit_seconds": fitted - built,
        "score_seconds": scored - fitted,
        "backtest_seconds": done - scored,
    }


def early_warning_lines(figures: dict) -> list[str]:
    if not figures:
        return []
    rows = [
        ("snapshots", f"{figures['snapshots']:,} rows", _seconds(figures["snapshot_seconds"])),
        (
            "fit" if figures["fitted"] else "fit (history too short: not fitted)",
            f"{figures['labelled_snapshots']:,} labelled",
            _seconds(figures["fit_seconds"]),
        ),
        ("score", f"{figures['scored_matches']:,} matches", _seconds(figures["score_seconds"])),
        ("back-test", "one fit per test month", _seconds(figures["backtest_seconds"])),
    ]
    return ["", "Early warning (on the full build's working DB):"] + format_table(
        rows, ("part", "size", "wall")
    )


def _progress(run: PipelineRun) -> None:
    m = run.measured
    state = "ok" if m.ok else f"FAILED (exit {m.returncode}, log {m.log})"
    print(
        f"  {m.wall:.1f} s, peak RSS {m.peak_rss_mb:,.0f} MB, {run.records:,} records - {state}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
