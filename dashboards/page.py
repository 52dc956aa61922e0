"""HTML building blocks: the page shell, sections, KPI tiles, tables, charts and filters.

Callers pass HTML-safe text (see `dashboards.fmt`); data values that go into attributes are
escaped here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import duckdb
import plotly.graph_objects as go

from dashboards import fmt
from dashboards.assets import CSS, SCRIPT
from dashboards.fmt import esc, group_label, timestamp
from dashboards.sql import ALL, COHORT_STARTS, NEWEST_RECORDS, Row, fetch, table_exists

PLOTLY_JS = "plotly.min.js"
GROUP_KEYS = ("program", "cohort")
EMPTY_NOTE = '<p class="empty-note" hidden>Nothing to show for this selection.</p>'


# Used only while core.run_info has no freshness_days column yet (the settings' default).
DEFAULT_FRESHNESS_DAYS = 7


@dataclass(frozen=True)
class Context:
    con: duckdb.DuckDBPyConnection
    as_of: dt.date
    built_at: dt.datetime
    min_group_size: int
    # The one program a restricted page or digest is built for (None: every program).
    program: str | None = None

    def mine(self, rows: list[Row]) -> list[Row]:
        """The rows of this context's program (all of them without one)."""
        return rows if self.program is None else [r for r in rows if r["program"] == self.program]

    @cached_property
    def run(self) -> Row:
        """The thresholds the warehouse was computed with (core.run_info), the one source of
        lapse days, k, grace days and freshness days for every page."""
        row = fetch(self.con, "SELECT * FROM core.run_info")[0] if self._has_run_info else {}
        return {
            "min_group_size": self.min_group_size,
            "lapse_days": None,
            "first_meeting_grace_days": None,
            "timezone": "UTC",
            **{key: value for key, value in row.items() if value is not None},
            "freshness_days": row.get("freshness_days") or DEFAULT_FRESHNESS_DAYS,
        }

    @property
    def k(self) -> int:
        return self.run["min_group_size"]

    @cached_property
    def _has_run_info(self) -> bool:
        return table_exists(self.con, "core.run_info") and bool(
            self.con.execute("SELECT count(*) FROM core.run_info").fetchone()[0]
        )

    @property
    def freshness_from(self) -> dt.date:
        """The day a record's age is measured from: the build date, or D when D is later (a
        run for a past D built today still says how old the data is today)."""
        return max(self.as_of, self.built_at.date())

    @cached_property
    def freshness(self) -> list[Row]:
        """Per source: its newest record seen by D, that date's age against the build date
        (freshness_from), stale or not."""
        return fetch(
            self.con,
            f"""SELECT source, newest_on, date_diff('day', newest_on, CAST($from_day AS DATE)) AS age_days,
                    newest_on IS NULL OR date_diff('day', newest_on, CAST($from_day AS DATE)) > $days
                        AS stale
                FROM ({NEWEST_RECORDS})""",
            as_of=self.as_of,
            from_day=self.freshness_from,
            timezone=self.run["timezone"],
            days=self.run["freshness_days"],
        )

    @cached_property
    def tables_not_current(self) -> list[Row]:
        """Tables a failure left with older content (ingest.table_builds), oldest first."""
        if not table_exists(self.con, "ingest.table_builds"):
            return []
        return fetch(
            self.con,
            "SELECT table_name, status, content_as_of FROM ingest.table_builds "
            "WHERE NOT current AND table_name LIKE 'marts.%' ORDER BY content_as_of, table_name",
        )

    @property
    def days_behind(self) -> int:
        """How many days the as-of date D lies before the day the pages were built."""
        return (self.built_at.date() - self.as_of).days

    @cached_property
    def cohorts_in_time_order(self) -> list[tuple[str, str]]:
        return [
            (row["program"], row["cohort"])
            for row in self.mine(
                fetch(
                    self.con,
                    f"SELECT program, cohort FROM {COHORT_STARTS} "
                    "ORDER BY program, cohort_start, cohort",
                )
            )
        ]


@dataclass(frozen=True)
class Option:
    value: str
    text: str
    programs: tuple[str, ...] = ()  # programs the option applies to; empty: every program


@dataclass(frozen=True)
class Filter:
    dim: str  # "program", "cohort" or "survey_id": the row key / data-* attribute it compares
    label: str
    options: Sequence[Option]
    all_text: str | None = None  # text of the "*" choice (the default); None: no such choice
    default: str | None = None  # value picked at first (else "*", or the first option)


@dataclass(frozen=True)
class Body:
    sections: list[str]
    filters: list[Filter] = field(default_factory=list)
    css: str = ""  # the page's own styles and script, inlined after the shared ones
    script: str = ""


@dataclass(frozen=True)
class Tile:
    label: str
    value: str  # HTML-safe
    n: str  # HTML-safe, e.g. "n = 120 active matches"
    about: str  # one line explaining the metric
    muted: bool = False  # the value is words (suppressed or missing), not a number
    change: str = ""  # HTML-safe change against the last month end or wave (fmt.change)
    figure: str = ""  # the catalogue name of the figure (data-figure), the same on every page


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[Row], str]  # HTML-safe cell content
    sort_key: Callable[[Row], Any] | None = None  # value the table sorts on (default: none)
    numeric: bool = False
    about: str = ""  # header tooltip
    warn: Callable[[Row], bool] | None = None  # highlight the cell when true


def render_page(
    *,
    slug: str,
    title: str,
    lede: str,
    nav: Sequence[tuple[str, str]],
    ctx: Context,
    body: Body,
    root: str = "",
) -> str:
    """`nav` names pages by their path from the site root; `root` leads from this page there
    ("../" for a page in restricted/), so every link is relative."""
    links = "".join(
        f'<a href="{root}{name}.html"{" aria-current=page" if name == slug else ""}>{text}</a>'
        for name, text in nav
    )
    filters = _filters_html(body.filters)
    sections = "\n".join(body.sections)
    # plotly.js (4.8 MB) only where a chart is drawn.
    plotly = f'<script src="{root}{PLOTLY_JS}"></script>\n' if "MP.chart(" in sections else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Mentor Pulse</title>
<link rel="icon" href="data:,">
<style>{CSS}{body.css}</style>
{plotly}<script>{SCRIPT}{body.script}</script>
</head>
<body>
<nav class="top"><span class="brand">Mentor Pulse</span>{links}</nav>
<header class="page">
<h1>{title}</h1>
<p class="lede">{lede}</p>
<p class="stamp">data as of <strong>{ctx.as_of.isoformat()}</strong> · built at {timestamp(ctx.built_at)}{_behind(ctx)}</p>
</header>
{stale_banner(ctx, root)}{behind_banner(ctx)}
{filters}
<main>
{sections}
</main>
<footer>Mentor Pulse · figures for the as-of date above · survey figures from fewer than
{ctx.k} respondents are suppressed to protect anonymity.</footer>
</body>
</html>
"""


def _behind(ctx: Context) -> str:
    days = ctx.days_behind
    if days <= 0:
        return ""
    return f' · <span class="behind">the as-of date is {fmt.count(days)} day{"s" * (days != 1)} before the build</span>'


def stale_banner(ctx: Context, root: str = "") -> str:
    """A warning on every page when a source's newest record is older than the setting."""
    stale = [row for row in ctx.freshness if row["stale"]]
    if not stale:
        return ""
    days = ctx.run["freshness_days"]
    items = "; ".join(
        f"{esc(row['source'])}: no records"
        if row["newest_on"] is None
        else f"{esc(row['source'])}: newest record {row['newest_on'].isoformat()}, "
        f"{fmt.days(row['age_days'])} before the "
        f"{'as-of date' if ctx.freshness_from == ctx.as_of else 'build date'}"
        for row in stale
    )
    return (
        f'<div class="banner stale" role="alert"><strong>Some data is older than {fmt.days(days)}'
        f"</strong> (the freshness setting): {items}. Figures that rest on it may be out of date; "
        f'see <a href="{root}data_quality.html#freshness">Data quality</a>.</div>'
    )


def behind_banner(ctx: Context) -> str:
    """A warning on every page when a mart could not be brought up to date in the last run."""
    rows = ctx.tables_not_current
    if not rows:
        return ""
    items = "; ".join(
        f"{esc(row['table_name'])}: "
        + (f"as of {row['content_as_of'].isoformat()}" if row["content_as_of"] else "not built yet")
        for row in rows
    )
    return (
        '<div class="banner stale" role="alert"><strong>Some figures could not be updated '
        f"in the last run</strong> and are shown as they were: {items}. The run's log, and "
        "ingest.table_builds in the warehouse, say why.</div>"
    )


def section(section_id: str, title: str, explain: str, content: str, *, wide: bool = False) -> str:
    classes = "card wide" if wide else "card"
    return f"""<section class="{classes}" id="{section_id}">
<h2>{title}</h2>
<p class="explain">{explain}</p>
<div class="filtered">{content}{EMPTY_NOTE}</div>
</section>"""


PICK_GROUP = "Pick a program and cohort above; “All cohorts” shows the program as a whole."


def key_figures(content: str, explain: str = PICK_GROUP) -> str:
    """The tiles at the top of a page, one group per program and cohort."""
    return section("kpis", "Key figures", explain, content, wide=True)


def chart(chart_id: str, figure: go.Figure | None) -> str:
    """A Plotly chart drawn by the page script (so the filter can redraw it)."""
    if figure is None:
        return '<p class="muted">No data yet.</p>'
    # Plotly's JSON encoder escapes <, > and /, so data cannot close the script element.
    return (
        _legend_html(figure) + f'<div class="chart" id="{chart_id}"></div>'
        f"<script>MP.chart({json.dumps(chart_id)}, {figure.to_json()});</script>"
    )


def _legend_html(figure: go.Figure) -> str:
    """The series of a category chart as swatches (see figures.category_chart)."""
    entries = (figure.layout.meta or {}).get("legend") or []
    items = "".join(
        f'<span><i class="swatch {esc(kind)}" style="--c:{esc(color)}"></i>{esc(name)}</span>'
        for name, color, kind in entries
    )
    return f'<div class="legend">{items}</div>' if items else ""


def tile_groups(
    rows: Sequence[Row],
    make_tiles: Callable[[Row], Sequence[Tile]],
    *,
    keys: Sequence[str] = GROUP_KEYS,
    heading: Callable[[Row], str] = group_label,
) -> str:
    """One set of KPI tiles per group; the filter shows the selected group's set."""
    if not rows:
        return '<p class="muted">No data yet.</p>'
    return "".join(
        f'<div class="tile-group" data-filter="series"{_data_keys(row, keys)}>'
        f"<h3>{heading(row)}</h3>{tiles(make_tiles(row))}</div>"
        for row in rows
    )


def tiles(items: Sequence[Tile]) -> str:
    return f'<div class="tiles">{"".join(_tile_html(tile) for tile in items)}</div>'


def table(
    rows: Sequence[Row],
    columns: Sequence[Column],
    *,
    keys: Sequence[str] = GROUP_KEYS,
    sortable: bool = False,
    empty: str = "Nothing to list.",
    row_data: Callable[[Row], dict[str, str]] | None = None,
) -> str:
    """`row_data` adds data-* attributes to each row (e.g. the values a CSV export writes)."""
    if not rows:
        return f'<p class="muted">{empty}</p>'
    head = "".join(_header_html(column, sortable) for column in columns)
    body = "".join(
        f'<tr data-filter="rows"{_data_keys(row, keys)}{_row_data(row, row_data)}>'
        f"{''.join(_cell_html(column, row) for column in columns)}</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def value_tile(
    label: str,
    value: Any,
    form: Callable[[Any], str],
    n: str,
    about: str,
    *,
    missing: str = "no data yet",
    change: str = "",
    figure: str = "",
) -> Tile:
    """A tile showing `form(value)`, or the words `missing` (never a blank or a zero)."""
    if value is None:
        return Tile(label, missing, n, about, muted=True, figure=figure)
    return Tile(label, form(value), n, about, change=change, figure=figure)


def group_filters(ctx: Context) -> list[Filter]:
    """Program and cohort selects listing every group with a known match."""
    rows = [(p, c) for p, c in ctx.cohorts_in_time_order if c != ALL]
    programs = sorted({program for program, _ in rows})
    cohorts: dict[str, list[str]] = {}  # in time order: dicts keep the first insertion
    for program, cohort in rows:
        cohorts.setdefault(cohort, []).append(program)
    return [
        Filter("program", "Program", [Option(p, esc(p)) for p in programs], "All programs"),
        Filter(
            "cohort",
            "Cohort",
            [Option(c, esc(c), tuple(ps)) for c, ps in cohorts.items()],
            "All cohorts",
        ),
    ]


def _filters_html(filters: Sequence[Filter]) -> str:
    if not filters:
        return ""
    selects = "".join(
        f'<label>{one.label} <select data-dim="{one.dim}">'
        + (f'<option value="*">{one.all_text}</option>' if one.all_text else "")
        + "".join(_option_html(option, option.value == one.default) for option in one.options)
        + "</select></label>"
        for one in filters
    )
    return f'<div class="filters" role="search">{selects}</div>'


def _option_html(option: Option, selected: bool) -> str:
    programs = f' data-programs="{esc(json.dumps(option.programs))}"' if option.programs else ""
    chosen = " selected" if selected else ""
    return f'<option value="{esc(option.value)}"{programs}{chosen}>{option.text}</option>'


def _row_data(row: Row, row_data: Callable[[Row], dict[str, str]] | None) -> str:
    items = row_data(row).items() if row_data else ()
    return "".join(f' data-{name}="{esc(value)}"' for name, value in items)


def _data_keys(row: Row, keys: Sequence[str]) -> str:
    return "".join(f' data-{key}="{esc(row[key])}"' for key in keys)


def _tile_html(tile: Tile) -> str:
    value_class = "value muted" if tile.muted else "value"
    if len(re.sub(r"<[^>]*>", "", tile.value)) > 8:  # a date or words: a smaller font
        value_class += " long"
    figure = f' data-figure="{esc(tile.figure)}"' if tile.figure else ""
    return (
        f'<div class="tile"{figure}><div class="label">{tile.label}</div>'
        f'<div class="{value_class}">{tile.value}</div>{tile.change}<div class="n">{tile.n}</div>'
        f'<div class="about">{tile.about}</div></div>'
    )


def _header_html(column: Column, sortable: bool) -> str:
    classes = ' class="num"' if column.numeric else ""
    about = f' title="{column.about}"' if column.about else ""
    text = (
        f'<button class="sort" type="button">{column.header}</button>'
        if sortable and column.sort_key
        else column.header
    )
    return f"<th{classes}{about}>{text}</th>"


def _cell_html(column: Column, row: Row) -> str:
    classes = ["num"] if column.numeric else []
    if column.warn and column.warn(row):
        classes.append("warn")
    class_attr = f' class="{" ".join(classes)}"' if classes else ""
    sort_attr = ""
    if column.sort_key:
        key = column.sort_key(row)
        sort_attr = f' data-sort="{"" if key is None else esc(key)}"'
    return f"<td{class_attr}{sort_attr}>{column.cell(row)}</td>"
