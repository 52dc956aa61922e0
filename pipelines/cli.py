"""The `mentorpulse` command: generate sample data, run the pipeline, serve the dashboards."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import http.server
import os
import shutil
import sys
from pathlib import Path

from assets.settings import SettingsError, load_settings

EXIT_FAILED = 1
EXIT_BAD_SETTINGS = 2


def _print_err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_generate(args: argparse.Namespace) -> int:
    from sample_data.generator import generate

    settings = load_settings()
    end_date = dt.date.fromisoformat(args.end_date) if args.end_date else None
    kwargs = {"end_date": end_date} if end_date else {}
    summary = generate(
        settings.landing_dir, profile=args.profile, seed=args.seed, progress=_print_err, **kwargs
    )
    print(summary)
    print(f"Landing files written under {settings.landing_dir}")
    return 0


def run_pipeline(log_level: str = "INFO") -> bool:
    """Run the whole graph once for the settings in the environment; True when all passed."""

    from pipelines.definitions import defs

    settings = load_settings()  # fail fast, before Dagster starts, on a bad setting
    started = dt.datetime.now(dt.UTC)
    instance = _instance()
    job = defs.resolve_job_def("refresh_all")
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
    )
    failed_checks = [
        f"{'.'.join(e.asset_key.path)}:{e.check_name}"
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity.value == "ERROR"
    ]
    warned_checks = [
        f"{'.'.join(e.asset_key.path)}:{e.check_name}"
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity.value == "WARN"
    ]
    _report(settings, started, failed_checks, warned_checks)
    return result.success and not failed_checks


def _instance():
    """The DAGSTER_HOME instance when one is set (made on first use, with the project's
    dagster.yaml), so CLI runs show up in `dagster dev`; else a throw-away one."""
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return None
    config = Path(home) / "dagster.yaml"
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(__file__).with_name("dagster.yaml"), config)
    return dg.DagsterInstance.get()


def _report(settings, started: dt.datetime, failed: list[str], warned: list[str]) -> None:
    from assets.publish import analyst_hint
    from assets.resources import open_working_db

    with open_working_db(settings) as con:
        files = con.execute(
            "SELECT path, status, rows_read, rows_loaded, rows_duplicate, rows_quarantined, "
            "coalesce(message, '') FROM ingest.files WHERE ingested_at >= ? ORDER BY source, path",
            [started],
        ).fetchall()
        reasons = con.execute(
            "SELECT source, reason, count(*) FROM ingest.quarantine WHERE quarantined_at >= ? "
            "GROUP BY ALL ORDER BY 1, 3 DESC",
            [started],
        ).fetchall()
    print(f"\nAs of {settings.as_of} ({settings.timezone}); data root {settings.data_dir}")
    if files:
        _print_files(files)
    else:
        print("\nNo new files: metrics recomputed for the as-of date.")
    if reasons:
        print("\nQuarantined in this run, by source and reason (see ingest.quarantine):")
        for source, reason, count in reasons:
            print(f"  {source:<13} {reason:<40} {count:>6}")
    for label, checks in (("FAILED blocking checks", failed), ("Warnings", warned)):
        if checks:
            print(f"\n{label}: " + ", ".join(checks))
    print("\n" + analyst_hint(settings))
    print(f"Dashboards: {settings.dashboards_dir / 'index.html'}  (mentorpulse serve)")


def _print_files(files: list[tuple]) -> None:
    """Totals, then every file that was not simply loaded clean."""
    read, loaded, duplicate, quarantined = (sum(f[i] for f in files) for i in range(2, 6))
    print(
        f"\nFiles ingested in this run: {len(files)} — records read {read}, loaded {loaded}, "
        f"exact duplicates {duplicate}, quarantined {quarantined}"
    )
    noteworthy = [f for f in files if f[1] != "loaded" or f[4] or f[5]]
    if noteworthy:
        print("Files with duplicates, quarantined records or problems:")
    for path, status, read, loaded, duplicate, quarantined, message in noteworthy:
        print(
            f"  {path:<48} {status:<14} read {read:>7}  loaded {loaded:>7}  "
            f"duplicate {duplicate:>5}  quarantined {quarantined:>5}  {message}"
        )
    if len(noteworthy) < len(files):
        print(f"  ({len(files) - len(noteworthy)} other files loaded clean)")


def cmd_run(args: argparse.Namespace) -> int:
    if args.as_of:
        os.environ["MENTORPULSE_AS_OF"] = args.as_of
    load_settings()
    ok = run_pipeline()
    if not ok:
        _print_err("\nThe run FAILED: see the messages above. Nothing wrong was published.")
    return 0 if ok else EXIT_FAILED


def cmd_demo(args: argparse.Namespace) -> int:
    from sample_data.generator import DEFAULT_END_DATE, generate

    os.environ.setdefault("MENTORPULSE_AS_OF", DEFAULT_END_DATE.isoformat())
    settings = load_settings()
    if any(settings.landing_dir.rglob("*.*")):
        print(f"Landing data already present in {settings.landing_dir}: not generating again.")
    else:
        print(generate(settings.landing_dir, profile="demo", progress=_print_err))
    return 0 if run_pipeline() else EXIT_FAILED


def cmd_serve(args: argparse.Namespace) -> int:
    directory = load_settings().dashboards_dir
    if not (directory / "index.html").exists():
        _print_err(f"No dashboards in {directory}: run `mentorpulse run` (or `make demo`) first.")
        return EXIT_FAILED
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    with http.server.ThreadingHTTPServer((args.host, args.port), handler) as server:
        print(
            f"Serving {directory} at http://{args.host}:{server.server_address[1]}/ (Ctrl-C stops)"
        )
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0


def cmd_dictionary(args: argparse.Namespace) -> int:
    from assets.dictionary import write_dictionary

    path = write_dictionary(Path(args.output))
    print(f"Data dictionary written to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mentorpulse",
        description="Mentor Pulse: analytics for mentoring programs. Settings come from "
        "MENTORPULSE_* environment variables (MENTORPULSE_DATA_DIR, MENTORPULSE_AS_OF, "
        "MENTORPULSE_TIMEZONE, ...; see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser(
        "generate", help="write seeded sample landing files under $MENTORPULSE_DATA_DIR/landing"
    )
    generate.add_argument("--profile", default="demo", choices=["demo", "small", "medium", "large"])
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--end-date", help="last day of the generated history (YYYY-MM-DD)")
    generate.set_defaults(handler=cmd_generate)

    run = commands.add_parser(
        "run", help="run the whole graph once: ingest, core, marts, checks, publish, dashboards"
    )
    run.add_argument("--as-of", help="as-of date D (overrides MENTORPULSE_AS_OF)")
    run.set_defaults(handler=cmd_run)

    demo = commands.add_parser(
        "demo", help="generate the demo sample data (once) and run the pipeline on it"
    )
    demo.set_defaults(handler=cmd_demo)

    serve = commands.add_parser("serve", help="serve the dashboards on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8050)
    serve.add_argument("--host", default="127.0.0.1")
    serve.set_defaults(handler=cmd_serve)

    dictionary = commands.add_parser(
        "dictionary", help="write the data dictionary (Markdown) from the warehouse comments"
    )
    dictionary.add_argument("--output", default="docs/data_dictionary.md")
    dictionary.set_defaults(handler=cmd_dictionary)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except SettingsError as error:
        _print_err(f"mentorpulse: {error}")
        return EXIT_BAD_SETTINGS


if __name__ == "__main__":
    sys.exit(main())
