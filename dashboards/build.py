"""Build every dashboard page from the marts into one directory of offline HTML."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import duckdb
import plotly.offline

from dashboards import at_risk, cadence, data_quality, feedback, goals, index, overview
from dashboards.page import PLOTLY_JS, Context, render_page

# The dashboards in nav order: each module has TITLE, LEDE and build(ctx) -> Body.
PAGES = {
    "overview": overview,
    "cadence": cadence,
    "goals": goals,
    "feedback": feedback,
    "at_risk": at_risk,
    "data_quality": data_quality,
}
NAV = [("index", "Home"), *((stem, module.TITLE) for stem, module in PAGES.items())]


def build_dashboards(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    *,
    as_of: dt.date,
    built_at: dt.datetime,
    min_group_size: int,
) -> list[Path]:
    """Write index.html, one page per dashboard and plotly.min.js into `out_dir`.

    Reads only the marts, restricted.participant_identity and the ingest tables through `con`.
    Returns the paths of every file of the site (plotly.min.js is rewritten only when changed).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = Context(con=con, as_of=as_of, built_at=built_at, min_group_size=min_group_size)
    written = [_write_plotly_js(out_dir)]
    pages = [(stem, module.TITLE, module.LEDE) for stem, module in PAGES.items()]
    bodies = {"index": (index.TITLE, index.LEDE, index.build(ctx, pages))}
    bodies |= {
        stem: (module.TITLE, module.LEDE, module.build(ctx)) for stem, module in PAGES.items()
    }
    for stem, (title, lede, body) in bodies.items():
        text = render_page(slug=stem, title=title, lede=lede, nav=NAV, ctx=ctx, body=body)
        written.append(_write_atomic(out_dir / f"{stem}.html", text.encode("utf-8")))
    return written


def _write_plotly_js(out_dir: Path) -> Path:
    path = out_dir / PLOTLY_JS
    content = plotly.offline.get_plotlyjs().encode("utf-8")
    if path.exists() and path.read_bytes() == content:
        return path
    return _write_atomic(path, content)


def _write_atomic(path: Path, content: bytes) -> Path:
    """Write via a temporary file and a rename, so a reader never sees half a page."""
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(content)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, 0o644)  # mkstemp makes 0600; pages are for every reader of the site
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path
