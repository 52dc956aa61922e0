"""The benchmark end to end on the small profile (CI smoke run): every row of its table is
printed with sane figures, and the floor computes the same marts as the pipeline.

No timing is asserted: the figures depend on the machine (see docs/performance.md).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

BENCHMARK = REPO / "benchmarks" / "benchmark.py"
RUNS = ("full build", "incremental (one day's files)", "nightly (nothing new)")
# Stages every run has; the others (core, marts, checks) depend on how the steps are cut.
STAGES = (
    "ingest (staging/*)",
    "publish (warehouse/published)",
    "dashboards (dashboards/pages)",
    "Dagster overhead (wall - sum of steps)",
)
OVERHEAD = "  Dagster overhead (wall - sum of steps)"
PAGES = (
    "index",
    "overview",
    "cadence",
    "goals",
    "feedback",
    "restricted/engineering-mentoring/at_risk",
    "restricted/engineering-mentoring/comments",
    "data_quality",
)
FLOOR = "floor (benchmarks/floor.sql)"
TARGETS = {  # issue 13: every run against the floor of the same benchmark
    "full build / floor": "<= 5x",
    "incremental (one day's files) / floor": "<= 1.5x",
    "nightly (nothing new) / floor": "<= 1x",
    "peak RSS, any pipeline run": "<= 2,048 MB",
    "largest dashboard page": "<= 3,072 KB",
}


def _number(cell: str) -> float | None:
    """A figure of the table ("1,234.5", "12.0%", "3.1x"); None for "-" or an empty cell."""
    cell = cell.rstrip("%x").replace(",", "")
    return float(cell) if re.fullmatch(r"\d+(\.\d+)?", cell) else None


def _table(output: str, header: str) -> dict[str, list[list[str]]]:
    """The rows of the table whose header line starts with `header`: label -> its cells, once
    per row with that label. Columns are read from the dashes under the header."""
    lines = output.splitlines()
    start = next((n for n, line in enumerate(lines) if line.startswith(header)), None)
    assert start is not None, f"no table {header!r} in the benchmark output:\n{output}"
    spans = [m.span() for m in re.finditer(r"-+", lines[start + 1])]
    rows: dict[str, list[list[str]]] = {}
    for line in lines[start + 2 :]:
        if not line.strip() or line.startswith("("):
            break
        cells = [line[a:b].strip() for a, b in spans[:-1]] + [line[spans[-1][0] :].strip()]
        rows.setdefault(cells[0], []).append(cells[1:])
    return rows


def _figures(rows: dict[str, list[list[str]]], label: str, nth: int = 0) -> list[float | None]:
    assert label in rows, f"no row {label!r}; rows: {list(rows)}"
    return [_number(cell) for cell in rows[label][nth]]


@pytest.fixture(scope="module")
def benchmark(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("benchmark")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MENTORPULSE_", "DAGSTER_"))}
    # A zone other than UTC, so the floor's local dates are checked against the pipeline's.
    env["MENTORPULSE_TIMEZONE"] = "Europe/Lisbon"
    completed = subprocess.run(
        [
            sys.executable,
            str(BENCHMARK),
            "--profile",
            "small",
            "--results-dir",
            str(tmp / "results"),
            "--tmp-dir",
            str(tmp),
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-6000:]
    return completed.stdout, tmp


def test_every_run_and_stage_is_in_the_table_with_sane_figures(benchmark):
    output, _ = benchmark
    table = _table(output, "run / stage")
    for run in RUNS:
        seconds, share, cpu, rss, rate, load = _figures(table, run)
        assert seconds > 0 and share == 100.0 and cpu > 0, run
        assert 50 < rss < 3 * 1024, f"{run}: peak RSS {rss} MB"
        assert load is not None, run
        if run != "nightly (nothing new)":
            assert rate and rate > 0, f"{run}: records/s {rate}"
    for stage in STAGES:
        assert len(table.get(stage, [])) == len(RUNS), f"{stage}: one row per run expected"
        for nth in range(len(RUNS)):
            seconds, share, *_ = _figures(table, stage, nth)
            assert seconds is not None and seconds >= 0 and 0 <= share <= 100, stage
    ingest_seconds, _, _, ingest_rss, *_ = _figures(table, "ingest (staging/*)")
    assert ingest_seconds > 0 and ingest_rss > 0


def test_the_stages_and_the_overhead_add_up_to_each_run(benchmark):
    """No step's time is dropped: a run's stage rows plus the overhead make its wall time."""
    output, _ = benchmark
    lines = output.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("run / stage"))
    spans = [m.span() for m in re.finditer(r"-+", lines[start + 1])]
    label_end, (seconds_start, seconds_end) = spans[0][1], spans[1]
    totals: dict[str, list[float]] = {}
    run = None
    for line in lines[start + 2 :]:
        if not line.strip() or line.startswith("("):
            break
        label, seconds = line[:label_end].rstrip(), _number(line[seconds_start:seconds_end].strip())
        if not label.startswith(" "):  # a run (or the floor) starts
            run = label
            totals[run] = [seconds, 0.0]
        elif not label.startswith("    "):  # a stage; its "of which" rows are indented more
            totals[run][1] += seconds
    for name in RUNS:
        wall, parts = totals[name]
        assert abs(parts - wall) < 0.05, f"{name}: stages add up to {parts}, wall {wall}"


def test_the_floor_ran_and_agrees_with_the_pipeline(benchmark):
    output, _ = benchmark
    seconds, _, cpu, rss, rate, _ = _figures(_table(output, "run / stage"), FLOOR)
    assert seconds > 0 and cpu > 0 and rss > 0 and rate > 0
    agreement = _table(output, "table ")
    for table in ("match_cadence", "goal_status", "feedback_scores"):
        floor_rows, pipeline_rows, differing = _figures(agreement, table)
        assert floor_rows == pipeline_rows > 0, table
        # floor.sql follows METRICS.md: when a mart's definition changes, change it too.
        assert differing == 0, f"{table}: {differing} rows differ between floor and pipeline"


def test_sizes_ratios_and_targets_are_reported(benchmark):
    output, tmp = benchmark
    sizes = _table(output, "file ")
    for label in (
        "published warehouse (warehouse/mentoring.duckdb)",
        "working database (restricted/pipeline.duckdb)",
    ):
        assert re.fullmatch(r"[\d,.]+ MB", sizes[label][0][0]), label
    assert any(label.startswith("parquet (") for label in sizes)
    for page in PAGES:
        assert re.fullmatch(r"[\d,]+ KB", sizes[f"page {page}.html"][0][0]), page
    assert "plotly.min.js (shared, not counted)" in sizes
    targets = _table(output, "target ")
    for target, bound in TARGETS.items():
        label = next((x for x in targets if x.startswith(target)), None)
        assert label, f"no target row {target!r}"
        figure, shown_bound, verdict = targets[label][0]
        assert _number(figure.split()[0]) is not None and verdict in ("met", "NOT MET"), target
        assert shown_bound == bound, target
    saved = list((tmp / "results").glob("small-*.json"))
    assert len(saved) == 1 and saved[0].with_suffix(".txt").exists()
    figures = json.loads(saved[0].read_text())["figures"]
    assert figures["full_over_floor"] > 0 and figures["peak_rss_mb"] > 0
    assert figures["incremental_over_floor"] > 0 and figures["nightly_over_floor"] > 0
    # The temporary data root is removed (no --keep); only the results stay.
    assert not list(tmp.glob("mentorpulse-bench-small-*"))
