"""The `mentorpulse` command: generate sample data, run the pipeline, serve the dashboards."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import os
import shutil
import sys
import uuid
from pathlib import Path

from assets.run_lock import RunLockTimeout
from assets.settings import SettingsError, load_settings

EXIT_FAILED = 1
EXIT_BAD_SETTINGS = 2
EXIT_BUSY = 3  # gave up waiting for another run's lock


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
    """Run the whole graph once for the settings in the environment; True when all passed.

    The run's parameters are fixed here, once ("today" too, without MENTORPULSE_AS_OF), and
    go into its run config and tags. Dead runs of this DAGSTER_HOME are failed first; the run
    then holds the data root's run lock until its summary is printed.
    """
    from assets.resources import parameter_tags, run_config_for
    from assets.run_lock import process_tags, run_lock
    from pipelines.definitions import defs
    from pipelines.sensors import fail_dead_runs

    settings = load_settings()  # fail fast, before Dagster starts, on a bad setting
    instance = _instance(settings)
    if instance is not None:
        fail_dead_runs(instance, _print_err)
        _runs_carry_their_ui_origin(instance)
    run_id = str(uuid.uuid4())
    with run_lock(settings, run_id):
        job = defs.resolve_job_def("refresh_all")
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            raise_on_error=False,
            run_config={
                **run_config_for(settings),
                "loggers": {"console": {"config": {"log_level": log_level}}},
            },
            tags={**parameter_tags(settings), **process_tags()},
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
        _report(settings, run_id, failed_checks, warned_checks)
    return result.success and not failed_checks


def _runs_carry_their_ui_origin(instance) -> None:
    """Runs made here name the job of `make dev`'s code location as their origin, as runs the
    daemon launches do: "Re-execute" in the UI then launches the job of that code location
    (without an origin, the UI fails on a bare CheckError)."""
    from dagster._core.remote_origin import (
        ManagedGrpcPythonEnvCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    location = ManagedGrpcPythonEnvCodeLocationOrigin(
        LoadableTargetOrigin(
            executable_path=sys.executable,
            module_name="pipelines.definitions",
            working_directory=str(Path(__file__).resolve().parents[1]),
        ),
        location_name="mentorpulse",  # workspace.yaml
    )
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), "refresh_all")
    instance.create_run_for_job = functools.partial(
        instance.create_run_for_job, remote_job_origin=origin
    )


def _instance(settings):
    """The DAGSTER_HOME instance when one is set (made on first use, with the project's
    dagster.yaml), so CLI runs show up in `dagster dev`; else a throw-away one.

    Making it is serialised by a lock in DAGSTER_HOME: two runs started together on a new
    home would otherwise both create Dagster's storage, and one would fail.
    """
    import dagster as dg

    from assets.run_lock import describe_holder, file_lock

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return None
    config = Path(home) / "dagster.yaml"
    lock = Path(home) / "instance.lock"
    with file_lock(lock, describe_holder(None), settings.lock_wait_seconds, log=None):
        if not config.exists():
            config.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(Path(__file__).with_name("dagster.yaml"), config)
        return dg.DagsterInstance.get()  # creates its SQLite storage: once, under the lock


def _report(settings, run_id: str, failed: list[str], warned: list[str]) -> None:
    from assets.ingest.loader import ensure_tables
    from assets.publish import analyst_hint
    from assets.resources import open_working_db
    from assets.warehouse.table_builds import tables_not_current

    with open_working_db(settings) as con:
        ensure_tables(con)  # a run that failed before ingest has none yet
        files = con.execute(
            "SELECT path, status, rows_read, rows_loaded, rows_duplicate, rows_quarantined, "
            "coalesce(message, '') FROM ingest.files WHERE run_id = ? ORDER BY source, path",
            [run_id],
        ).fetchall()
        reasons = con.execute(
            "SELECT q.source, q.reason, count(*) FROM ingest.quarantine q "
            "JOIN ingest.files f USING (load_id) WHERE f.run_id = ? "
            "GROUP BY ALL ORDER BY 1, 3 DESC",
            [run_id],
        ).fetchall()
        # A file stays listed, run after run, while its latest row is a rejection.
        still_rejected = con.execute(
            "SELECT path, coalesce(message, '') FROM ("
            "  SELECT *, row_number() OVER (PARTITION BY path ORDER BY ingested_at DESC) AS n"
            "  FROM ingest.files"
            ") WHERE n = 1 AND status = 'rejected' AND run_id IS DISTINCT FROM ? ORDER BY path",
            [run_id],
        ).fetchall()
        behind = tables_not_current(con)
    print(f"\nAs of {settings.as_of} ({settings.timezone}); data root {settings.data_dir}")
    if files:
        _print_files(files)
    else:
        print("\nNo new files: metrics recomputed for the as-of date.")
    if reasons:
        print(
            "\nQuarantined in this run, by source and reason (see ingest.quarantine; "
            "`mentorpulse quarantine show FILE LINE` prints a record):"
        )
        for source, reason, count in reasons:
            print(f"  {source:<13} {reason:<40} {count:>6}")
    still_rejected = [r for r in still_rejected if (settings.landing_dir / r[0]).exists()]
    if still_rejected:
        print("\nStill rejected from earlier runs (listed until fixed or removed from landing/):")
        for path, message in still_rejected:
            print(f"  {path:<48} {message}")
    if behind:
        print("\nNot current — kept their previous content, and published as they were:")
        for table, status, detail in behind:
            print(f"  {table:<34} {status:<16} {detail or ''}")
    for label, checks in (("FAILED checks", failed), ("Warnings", warned)):
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
    # A loaded file can carry a warning (an export's mapped item with no answer anywhere).
    noteworthy = [
        f for f in files if f[1] != "loaded" or f[4] or f[5] or "warning: " in (f[6] or "")
    ]
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
        _print_err(
            "\nThe run FAILED: see the messages above. Nothing wrong was published: a table "
            "that failed, and what reads it, kept its previous content (ingest.table_builds)."
        )
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
    """The dashboards over HTTP: public pages open, restricted ones behind a login
    (dashboards/server.py)."""
    from dashboards.server import ServeConfig, secret_key, serve

    settings = load_settings()
    directory = settings.dashboards_dir
    if not (directory / "index.html").exists():
        _print_err(f"No dashboards in {directory}: run `mentorpulse run` (or `make demo`) first.")
        return EXIT_FAILED
    secure = args.secure_cookies or _env_flag("MENTORPULSE_SECURE_COOKIES")
    header = os.environ.get("MENTORPULSE_AUTH_HEADER", "").strip() or None
    config = ServeConfig(
        dashboards_dir=directory,
        landing_dir=settings.landing_dir,
        users_file=_users_file(settings),
        secret_key=secret_key(settings.restricted_dir / "serve.key"),
        secure_cookies=secure,
        auth_header=header,
    )
    who = f"user named by the {header} header" if header else f"users of {config.users_file}"

    def announce(url: str) -> None:
        print(f"Serving {directory} at {url} (restricted pages: {who}; Ctrl-C stops)", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        serve(config, args.host, args.port, announce)
    return 0


def _env_flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise SettingsError(f"{name}={value!r}: use true or false")


def _users_file(settings) -> Path:
    override = os.environ.get("MENTORPULSE_USERS_FILE", "").strip()
    return Path(override) if override else settings.restricted_dir / "users.toml"


def cmd_user_add(args: argparse.Namespace) -> int:
    """Add a user (or change one's password and programs) in the users file."""
    import getpass

    from werkzeug.security import generate_password_hash

    from dashboards.access import User, load_users, save_users

    path = _users_file(load_settings())
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif args.no_password:
        password = ""
    else:
        password = getpass.getpass(f"Password for {args.name}: ")
        if password != getpass.getpass("Again: "):
            _print_err("mentorpulse user add: the passwords differ")
            return EXIT_FAILED
    if not args.no_password and len(password) < 10:
        _print_err("mentorpulse user add: use a password of at least 10 characters")
        return EXIT_FAILED
    users = load_users(path)
    users[args.name] = User(
        args.name,
        generate_password_hash(password) if password else None,
        tuple(args.program),
        args.operator,
    )
    save_users(path, users)
    print(f"{args.name}: programs {', '.join(args.program) or '(none)'} in {path}")
    return 0


def cmd_user_hash(args: argparse.Namespace) -> int:
    """Print a salted hash of a password read from standard input (for a users file)."""
    from werkzeug.security import generate_password_hash

    print(generate_password_hash(sys.stdin.readline().rstrip("\n")))
    return 0


def cmd_dictionary(args: argparse.Namespace) -> int:
    from assets.dictionary import write_dictionary

    path = write_dictionary(Path(args.output))
    print(f"Data dictionary written to {path}")
    return 0


def cmd_check_mapping(args: argparse.Namespace) -> int:
    """How a survey export would load with a mapping; writes nothing (exit 0: clean)."""
    from assets.ingest.exports.check import check_mapping

    for path in (args.mapping, args.export):
        if not Path(path).is_file():
            _print_err(f"mentorpulse check-mapping: no such file: {path}")
            return EXIT_FAILED
    check = check_mapping(load_settings(), Path(args.mapping), Path(args.export))
    print("\n".join(check.lines()))
    return 0 if check.clean else EXIT_FAILED


def cmd_quarantine_show(args: argparse.Namespace) -> int:
    """A quarantined record's text, rule and detail, from the restricted working database
    (the published quarantine holds no record text)."""
    import duckdb

    from assets.ingest.loader import quarantine_summary, quarantined_records

    settings = load_settings()
    given = Path(args.file)
    if given.is_absolute() and given.is_relative_to(settings.landing_dir):
        given = given.relative_to(settings.landing_dir)
    elif given.parts[:1] == ("landing",):
        given = Path(*given.parts[1:])
    path = given.as_posix()
    try:
        with duckdb.connect(str(settings.working_db_path), read_only=True) as con:
            records = quarantined_records(con, path, args.line)
            others = [] if records else quarantine_summary(con, path)
    except duckdb.IOException:
        _print_err(
            f"mentorpulse: cannot read {settings.working_db_path}: a run is using it or it "
            "does not exist yet (`mentorpulse run` makes it); try again when the run ends."
        )
        return EXIT_BUSY
    except duckdb.CatalogException:
        _print_err(f"mentorpulse: nothing ingested yet in {settings.working_db_path}.")
        return EXIT_FAILED
    if not records:
        if others:
            where = ", ".join(
                f"line {line}: {rule}" if line is not None else f"the whole file: {rule}"
                for line, rule in others
            )
            _print_err(f"No quarantined record at {path} line {args.line}. Quarantined: {where}.")
        else:
            _print_err(
                f"No quarantined record in {path}: FILE is the path relative to landing/ "
                "as ingest.quarantine.path shows it (e.g. meetings/meetings_2026-01-20.jsonl)."
            )
        return EXIT_FAILED
    for quarantined_at, rule, detail, text in records:
        print(
            f"{path} line {args.line}: rule {rule} (quarantined {quarantined_at:%Y-%m-%d %H:%M %Z})"
        )
        print(f"  detail: {detail or '-'}")
        if text is None:
            print("  no record text is kept for this rule: look at that line of the landing file")
        else:
            print("  record text (personal data: do not copy it into tickets):")
            print("\n".join("    " + part for part in text.split("\n")))
    return 0


def cmd_reidentify(args: argparse.Namespace) -> int:
    """Participant ids of pseudonymous keys, for a named reason, written to the audit log
    (restricted/reidentification.log) before anything is printed."""
    from assets.reidentify import ReidentifyError, audit_log_path, reidentify

    settings = load_settings()
    try:
        results = reidentify(settings, args.keys, args.reason)
    except ReidentifyError as error:
        _print_err(f"mentorpulse reidentify: refused: {error}.")
        return EXIT_FAILED
    except OSError as error:  # the audit log cannot be written: nothing is shown
        _print_err(f"mentorpulse reidentify: cannot write the audit log: {error}.")
        return EXIT_FAILED
    for result in results:
        print(f"{result.key}\t{result.participant_id or '(unknown key)'}")
    unknown = sum(r.participant_id is None for r in results)
    if unknown:
        _print_err(
            f"{unknown} key(s) unknown: not a participant's key under the current pseudonym "
            "secret (compare core.run_info.pseudonym_key_fingerprint of the warehouse the key "
            "came from)."
        )
    _print_err(f"Logged to {audit_log_path(settings)}.")
    return 0 if not unknown else EXIT_FAILED


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

    serve = commands.add_parser(
        "serve", help="serve the dashboards on 127.0.0.1 (restricted pages need a login)"
    )
    serve.add_argument("--port", type=int, default=8050)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--secure-cookies",
        action="store_true",
        help="session cookie only over https (behind a TLS proxy; MENTORPULSE_SECURE_COOKIES)",
    )
    serve.set_defaults(handler=cmd_serve)

    user = commands.add_parser("user", help="manage who may sign in to `mentorpulse serve`")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="add a user, or replace one's password/programs")
    add.add_argument("name")
    add.add_argument(
        "--program", action="append", default=[], help="a program they manage (repeat; * = all)"
    )
    add.add_argument("--operator", action="store_true", help="may read the operator's digest")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument(
        "--no-password",
        action="store_true",
        help="no password (only with MENTORPULSE_AUTH_HEADER: the proxy signs them in)",
    )
    add.set_defaults(handler=cmd_user_add)
    hash_ = user_commands.add_parser("hash", help="print a salted hash of a password from stdin")
    hash_.set_defaults(handler=cmd_user_hash)

    dictionary = commands.add_parser(
        "dictionary", help="write the data dictionary (Markdown) from the warehouse comments"
    )
    dictionary.add_argument("--output", default="docs/data_dictionary.md")
    dictionary.set_defaults(handler=cmd_dictionary)

    check_mapping = commands.add_parser(
        "check-mapping",
        help="report how a survey export would load with a mapping, before it lands "
        "(writes nothing; exit 0 when it would load clean)",
    )
    check_mapping.add_argument("mapping", help="the mapping file (.toml, .yaml, .yml)")
    check_mapping.add_argument("export", help="the tool's export (.csv, .xlsx)")
    check_mapping.set_defaults(handler=cmd_check_mapping)

    quarantine = commands.add_parser(
        "quarantine", help="look at quarantined records (reads the restricted working database)"
    )
    quarantine_commands = quarantine.add_subparsers(dest="quarantine_command", required=True)
    show = quarantine_commands.add_parser(
        "show", help="print a quarantined record's text, rule and detail"
    )
    show.add_argument("file", help="the landed file, relative to landing/ (e.g. meetings/x.jsonl)")
    show.add_argument("line", type=int, help="the record's line (ingest.quarantine.line)")
    show.set_defaults(handler=cmd_quarantine_show)

    reidentify = commands.add_parser(
        "reidentify",
        help="map pseudonymous participant keys to participant ids, for a named reason, "
        "logged to restricted/reidentification.log (reads the restricted working database)",
    )
    reidentify.add_argument("keys", nargs="+", metavar="KEY", help="a mentor_key or mentee_key")
    reidentify.add_argument(
        "--reason", help="why (required): who asked, the ticket and what for; it is logged"
    )
    reidentify.set_defaults(handler=cmd_reidentify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except SettingsError as error:
        _print_err(f"mentorpulse: {error}")
        return EXIT_BAD_SETTINGS
    except RunLockTimeout as error:
        _print_err(f"mentorpulse: {error}")
        return EXIT_BUSY


if __name__ == "__main__":
    sys.exit(main())
