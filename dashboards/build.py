"""Build every dashboard page from the marts into one directory of offline HTML.

Public pages (no names, e-mails or comments) sit at the top of the directory, mode 0644.
Pages with personal data sit in restricted/<program>/ and each program's weekly digest in
digest/<program>/, the operator's digest (data problems) in operator/: folders 0700, files
0600, so only the account that runs the pipeline (and serves the pages) can read them, and
`mentorpulse serve` gives each program's folders to that program's managers only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import plotly.offline

from dashboards import (
    at_risk,
    cadence,
    comments,
    data_quality,
    digest,
    feedback,
    fmt,
    goals,
    index,
    outcomes,
    overview,
)
from dashboards.access import DIGEST, MATCHES_FILE, OPERATOR, RESTRICTED, program_folders
from dashboards.page import PLOTLY_JS, Context, render_page
from dashboards.sql import fetch

PUBLIC_MODE = 0o644
RESTRICTED_MODE = 0o600
RESTRICTED_DIR_MODE = 0o700

# The public dashboards in nav order: each module has TITLE, LEDE and build(ctx) -> Body.
PAGES = {
    "overview": overview,
    "cadence": cadence,
    "goals": goals,
    "feedback": feedback,
    "outcomes": outcomes,
    "data_quality": data_quality,
}
# Each program's restricted pages, in restricted/<program-slug>/ (dashboards/access.py).
PROGRAM_PAGES = {"at_risk": at_risk, "comments": comments}
NAV = [("index", "Home"), *((path, module.TITLE) for path, module in PAGES.items())]
# Written by older builds: the at-risk page once public, then every program's restricted
# pages and digest in one file each.
LEGACY_PAGES = (
    "at_risk.html",
    f"{RESTRICTED}/at_risk.html",
    f"{RESTRICTED}/comments.html",
    f"{DIGEST}/latest.html",
)
PROGRAMS_SQL = "SELECT DISTINCT program FROM marts.match_cadence ORDER BY program"
MATCH_IDS_SQL = "SELECT match_id FROM marts.match_cadence WHERE program = $program ORDER BY 1"


@dataclass(frozen=True)
class Site:
    paths: list[Path]  # every file written or kept (plotly.min.js is rewritten only when changed)
    digest: digest.Digest


def build_dashboards(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    as_of: dt.date,
    built_at: dt.datetime,
    min_group_size: int,
) -> list[Path]:
    """Write the site into `out_dir` (see build_site) and return the paths of its files."""
    return build_site(
        con, out_dir, as_of=as_of, built_at=built_at, min_group_size=min_group_size
    ).paths


def build_site(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    as_of: dt.date,
    built_at: dt.datetime,
    min_group_size: int,
) -> Site:
    """Write index.html, one page per dashboard, plotly.min.js, each program's restricted
    pages and digest, and the operator's digest into `out_dir`.

    Reads the marts, core.run_info, the ingest tables, and for the restricted pages
    restricted.participant_identity and staging.responses (comments) through `con`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    restricted_dir = _private_dir(out_dir / RESTRICTED)
    digest_dir = _private_dir(out_dir / DIGEST)
    operator_dir = _private_dir(out_dir / OPERATOR)
    for legacy in LEGACY_PAGES:
        (out_dir / legacy).unlink(missing_ok=True)
    for legacy in digest_dir.glob("digest-*.html"):
        legacy.unlink()
    remove_temp_files(out_dir)

    ctx = Context(con=con, as_of=as_of, built_at=built_at, min_group_size=min_group_size)
    programs = [row["program"] for row in fetch(con, PROGRAMS_SQL)]
    written = [_write_plotly_js(out_dir)]
    pages = [(path, module.TITLE, module.LEDE) for path, module in PAGES.items()]
    bodies = {"index": (index.TITLE, index.LEDE, index.build(ctx, pages, programs))}
    bodies |= {
        path: (module.TITLE, module.LEDE, module.build(ctx)) for path, module in PAGES.items()
    }
    for path, (title, lede, body) in bodies.items():
        text = render_page(slug=path, title=title, lede=lede, nav=NAV, ctx=ctx, body=body)
        written.append(write_atomic(out_dir / f"{path}.html", text.encode("utf-8"), PUBLIC_MODE))

    weekly = digest.compose(ctx, digest_dir)
    for program, slug in program_folders(programs).items():
        mine = replace(ctx, program=program)
        folder = _private_dir(restricted_dir / slug)
        nav = [
            *NAV,
            *((f"{RESTRICTED}/{slug}/{name}", m.TITLE) for name, m in PROGRAM_PAGES.items()),
            (f"{DIGEST}/{slug}/latest", "Digest"),
        ]
        for name, module in PROGRAM_PAGES.items():
            text = render_page(
                slug=f"{RESTRICTED}/{slug}/{name}",
                title=f"{module.TITLE} · {fmt.esc(program)}",
                lede=module.LEDE,
                nav=nav,
                ctx=mine,
                body=module.build(mine),
                root="../../",
            )
            written.append(write_atomic(folder / f"{name}.html", text.encode(), RESTRICTED_MODE))
        ids = [row["match_id"] for row in fetch(con, MATCH_IDS_SQL, program=program)]
        written.append(
            write_atomic(folder / MATCHES_FILE, json.dumps(ids).encode(), RESTRICTED_MODE)
        )
        page = digest.render(weekly, [program], root="../../").encode("utf-8")
        program_digests = _private_dir(digest_dir / slug)
        written += [
            write_atomic(program_digests / weekly.file_name, page, RESTRICTED_MODE),
            write_atomic(program_digests / "latest.html", page, RESTRICTED_MODE),
        ]
    state = json.dumps(weekly.state, indent=1, sort_keys=True, default=str).encode("utf-8")
    operator_page = digest.render_operator(weekly, ctx).encode("utf-8")
    written += [
        write_atomic(digest_dir / weekly.state_name, state, RESTRICTED_MODE),
        write_atomic(operator_dir / weekly.file_name, operator_page, RESTRICTED_MODE),
        write_atomic(operator_dir / "latest.html", operator_page, RESTRICTED_MODE),
    ]
    return Site(paths=written, digest=weekly)


def remove_temp_files(out_dir: Path) -> None:
    """Temporary pages a killed build left behind (write_atomic's `.<name>.*.tmp`): one build
    runs at a time (the run lock), so any such file is a dead run's."""
    folders = [out_dir, out_dir / RESTRICTED, out_dir / DIGEST, out_dir / OPERATOR]
    folders += [p for f in folders[1:] if f.is_dir() for p in f.iterdir() if p.is_dir()]
    for folder in folders:
        for leftover in folder.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)


def _private_dir(path: Path) -> Path:
    path.mkdir(exist_ok=True)
    path.chmod(RESTRICTED_DIR_MODE)  # also when an older build made it with another mode
    return path


def _write_plotly_js(out_dir: Path) -> Path:
    path = out_dir / PLOTLY_JS
    content = plotly.offline.get_plotlyjs().encode("utf-8")
    if path.exists() and path.read_bytes() == content:
        return path
    return write_atomic(path, content, PUBLIC_MODE)


def write_atomic(path: Path, content: bytes, mode: int) -> Path:
    """Write via a temporary file and a rename, so a reader never sees half a page.

    The file has `mode` from its first byte (mkstemp makes it 0600), never a wider one.
    """
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(content)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path
