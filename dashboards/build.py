"""Build every dashboard page from the marts into one directory of offline HTML.

Public pages (no names, e-mails or comments) sit at the top of the directory, mode 0644.
Pages with personal data sit in restricted/ and the weekly digest in digest/: folders 0700,
files 0600, so only the account that runs the pipeline (and serves the pages) can read them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
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
    goals,
    index,
    outcomes,
    overview,
)
from dashboards.page import PLOTLY_JS, Context, render_page

RESTRICTED = "restricted"
DIGEST = "digest"
PUBLIC_MODE = 0o644
RESTRICTED_MODE = 0o600
RESTRICTED_DIR_MODE = 0o700

# The dashboards in nav order, by path from the site root: each module has TITLE, LEDE and
# build(ctx) -> Body. A path under restricted/ makes a restricted page.
PAGES = {
    "overview": overview,
    "cadence": cadence,
    "goals": goals,
    "feedback": feedback,
    "outcomes": outcomes,
    f"{RESTRICTED}/at_risk": at_risk,
    f"{RESTRICTED}/comments": comments,
    "data_quality": data_quality,
}
NAV = [("index", "Home"), *((path, module.TITLE) for path, module in PAGES.items())]
# Where the at-risk page was written (0644) before it moved to restricted/.
LEGACY_PAGES = ("at_risk.html",)


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
    """Write index.html, one page per dashboard, plotly.min.js and the digest into `out_dir`.

    Reads the marts, core.run_info, the ingest tables, and for the restricted pages
    restricted.participant_identity and staging.responses (comments) through `con`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    restricted_dir = _private_dir(out_dir / RESTRICTED)
    digest_dir = _private_dir(out_dir / DIGEST)
    for legacy in LEGACY_PAGES:
        (out_dir / legacy).unlink(missing_ok=True)
    remove_temp_files(out_dir)

    ctx = Context(con=con, as_of=as_of, built_at=built_at, min_group_size=min_group_size)
    written = [_write_plotly_js(out_dir)]
    pages = [(path, module.TITLE, module.LEDE) for path, module in PAGES.items()]
    bodies = {"index": (index.TITLE, index.LEDE, index.build(ctx, pages))}
    bodies |= {
        path: (module.TITLE, module.LEDE, module.build(ctx)) for path, module in PAGES.items()
    }
    for path, (title, lede, body) in bodies.items():
        root = "../" * path.count("/")
        text = render_page(
            slug=path, title=title, lede=lede, nav=NAV, ctx=ctx, body=body, root=root
        )
        target = out_dir / f"{path}.html"
        mode = RESTRICTED_MODE if target.parent == restricted_dir else PUBLIC_MODE
        written.append(write_atomic(target, text.encode("utf-8"), mode))

    weekly = digest.compose(ctx, digest_dir)
    page = digest.render(weekly).encode("utf-8")
    state = json.dumps(weekly.state, indent=1, sort_keys=True, default=str).encode("utf-8")
    written += [
        write_atomic(digest_dir / weekly.file_name, page, RESTRICTED_MODE),
        write_atomic(digest_dir / "latest.html", page, RESTRICTED_MODE),
        write_atomic(digest_dir / weekly.state_name, state, RESTRICTED_MODE),
    ]
    return Site(paths=written, digest=weekly)


def remove_temp_files(out_dir: Path) -> None:
    """Temporary pages a killed build left behind (write_atomic's `.<name>.*.tmp`): one build
    runs at a time (the run lock), so any such file is a dead run's."""
    for folder in (out_dir, out_dir / RESTRICTED, out_dir / DIGEST):
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
