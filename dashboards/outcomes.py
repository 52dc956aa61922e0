"""Outcomes: do matches last, do answers change between intake and closing, which ways of
pairing go with lasting matches, and do the surveys measure consistently. Public: aggregates of
the outcome marts only (survey figures come suppressed from the warehouse)."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboards import fmt
from dashboards.figures import FONT, GRID, INK, MUTED, PALETTE, Axis, Series, category_chart
from dashboards.page import Body, Column, Context, Filter, Option, chart, section, table
from dashboards.sql import ALL, WAVE_ORDER, Row, fetch, in_time_order, pivot, table_exists

TITLE = "Outcomes"
LEDE = "Do matches last, do answers change from intake to closing, which pairings work?"

HORIZONS = (30, 90, 180, 365)
REASONS = [
    ("mentor_withdrew", "Mentor withdrew", "#ea580c"),
    ("mentee_withdrew", "Mentee withdrew", "#db2777"),
    ("no_engagement", "No engagement", "#dc2626"),
    ("rematched", "Rematched", "#9333ea"),
    ("other", "Other", "#64748b"),
    ("unknown_reason", "No reason given", "#94a3b8"),
]
ITEMS = {
    "guidance": "Guidance",
    "networking": "Networking",
    "skills": "Skills",
    "feedback": "Feedback",
    "communication": "Communication",
    "satisfaction": "Satisfaction",
}
ROLES = {"mentee": "mentee", "mentor": "mentor", ALL: "both"}
ROLE_NAMES = {"mentee": "Mentees", "mentor": "Mentors", "both": "Both roles"}
ATTRIBUTES = {
    "department": ("Department", {"same": "Same department", "different": "Different"}),
    "location": ("Location", {"same": "Same location", "different": "Different"}),
    "mentor_load": (
        "Mentor's load when matched",
        {"1": "1 mentee", "2": "2 mentees", "3+": "3 or more"},
    ),
}
RELIABLE_ALPHA = 0.7
MAX_WAVES = 8  # newest survey waves per program in the reliability table
SHARE_AXIS = Axis("share", fmt.pct, ".0%", (0, 1))

RETENTION_SQL = in_time_order("SELECT * FROM marts.match_retention", "day")
CLOSURES_SQL = in_time_order("SELECT * FROM marts.match_closures")
CHANGE_SQL = f"""
    SELECT program, item, {
    pivot(
        {
            "change": "mean_change",
            "low": "ci_low",
            "high": "ci_high",
            "n": "n_pairs",
            "respondents": "n_respondents",
            "suppressed": "suppressed",
        },
        "role",
        ROLES,
    )
}
    FROM marts.survey_change
    WHERE cohort = '{ALL}'
    GROUP BY program, item
    ORDER BY program, list_position({list(ITEMS)}, item)"""
DESIGN_SQL = """
    SELECT * FROM marts.match_design WHERE program <> '(all)'
    ORDER BY program, attribute,
        CASE level WHEN 'same' THEN 0 WHEN 'different' THEN 1 WHEN 'unknown' THEN 3 ELSE 2 END,
        level"""
RELIABILITY_SQL = f"""
    SELECT * FROM marts.survey_reliability
    QUALIFY dense_rank() OVER (PARTITION BY program ORDER BY {WAVE_ORDER}) <= {MAX_WAVES}
    ORDER BY program, {WAVE_ORDER}, CASE role WHEN '(all)' THEN 2 WHEN 'mentee' THEN 0 ELSE 1 END"""


def build(ctx: Context) -> Body:
    retention = _rows(ctx, "marts.match_retention", RETENTION_SQL)
    closures = _rows(ctx, "marts.match_closures", CLOSURES_SQL)
    change = _rows(ctx, "marts.survey_change", CHANGE_SQL)
    design = _rows(ctx, "marts.match_design", DESIGN_SQL)
    reliability = _rows(ctx, "marts.survey_reliability", RELIABILITY_SQL)
    return Body(
        filters=[_program_filter(ctx)],
        css=CSS,
        sections=[
            section(
                "retention",
                "Matches that last",
                "Share of matches not closed early by 30, 90, 180 and 365 days after matching "
                "(Kaplan–Meier: a match still running, or completed, counts while it lasted). "
                "The band is the 95% interval; a curve stops where no match has lasted that "
                "long yet.",
                chart("retention-chart", _retention_chart(retention)),
            ),
            section(
                "closures",
                "Early closures by reason",
                "Matches that ended before completing, by the reason recorded, per cohort.",
                "<h3>Early closures, by reason</h3>"
                + chart("closure-reasons-chart", _reasons_chart(closures))
                + "<h3>Early-closure rate, of ended matches</h3>"
                + chart("closure-rate-chart", _closure_rate_chart(closures)),
            ),
            section(
                "change",
                "From intake to closing",
                "Mean change of each answer (1–5) from a person's intake survey to their "
                "closing survey of the same match, all cohorts; the whisker is the 95% "
                f"interval. Groups under {ctx.k} respondents are suppressed.",
                chart("change-chart", _change_chart(change, ctx.k)),
                wide=True,
            ),
            section(
                "design",
                "Which pairings work",
                "Early-closure rate, goal attainment and cadence attainment by how pairs were "
                "formed, with 95% intervals. These are associations in your program's data, "
                "not effects: pairings differ in other ways too.",
                _design_charts(design),
                wide=True,
            ),
            section(
                "reliability",
                "Do the surveys measure consistently?",
                "Cronbach's alpha of the six answer items, per survey wave and role, over "
                f"responses that answer all six. Below {RELIABLE_ALPHA}: the items do not "
                "measure one thing consistently, so read them one by one.",
                table(
                    reliability,
                    _reliability_columns(ctx.k),
                    keys=("program",),
                    empty="No survey responses yet.",
                ),
                wide=True,
            ),
        ],
    )


CSS = """
.multiples { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 12px; }
.multiples h3, #closures h3 { margin: 8px 0 4px; font-size: 14px; }
"""


def _rows(ctx: Context, table_name: str, sql: str) -> list[Row]:
    """The rows of an outcome mart; none when the warehouse predates it."""
    return fetch(ctx.con, sql) if table_exists(ctx.con, table_name) else []


def _program_filter(ctx: Context) -> Filter:
    """One program at a time: its cohorts' curves side by side."""
    programs = sorted({program for program, _ in ctx.cohorts_in_time_order})
    options = [Option(p, fmt.esc(p)) for p in programs]
    return Filter("program", "Program", options, default=programs[0] if programs else None)


# --- retention ------------------------------------------------------------------------------
def _retention_chart(rows: list[Row]) -> go.Figure | None:
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row["program"], row["cohort"]), []).append(row)
    if not groups:
        return None
    fig = go.Figure()
    for index, ((program, cohort), group) in enumerate(groups.items()):
        label = fmt.group_label({"program": program, "cohort": cohort})
        points = [r for r in group if r["survival"] is not None]
        color = INK if cohort == ALL else PALETTE[index % len(PALETTE)]
        meta = {"rule": "series", "keys": {"program": program}}
        name = f"{label} (n = {fmt.count(group[0]['matches'])})"
        days = [0, *(r["day"] for r in points)]
        low = [1.0, *(_edge(r, "ci_low") for r in points)]
        high = [1.0, *(_edge(r, "ci_high") for r in points)]
        fig.add_trace(
            go.Scatter(
                x=days + days[::-1],
                y=high + low[::-1],
                mode="lines",
                fill="toself",
                fillcolor=_transparent(color),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                meta=meta,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=days,
                y=[1.0, *(r["survival"] for r in points)],
                name=name,
                mode="lines+markers",
                line={"color": color, "width": 3 if cohort == ALL else 2},
                hovertext=[f"<b>{name}</b><br>day 0: 100% of matches"]
                + [_retention_hover(name, r) for r in points],
                hoverinfo="text",
                meta=meta,
            )
        )
    fig.update_layout(
        _layout(height=300 + 22 * len(groups)),
        xaxis={"title": {"text": "days after matching", "font": {"color": MUTED}},
               "tickvals": [0, *HORIZONS], "range": [0, 370], "fixedrange": True,
               "gridcolor": GRID, "zeroline": False},
        yaxis={"title": {"text": "not closed early", "font": {"color": MUTED}},
               "tickformat": ".0%", "range": [0, 1.02], "fixedrange": True, "gridcolor": GRID},
    )  # fmt: skip
    return fig


def _edge(row: Row, column: str) -> float:
    """An interval bound, or the estimate itself where there is no interval (0% or 100%)."""
    return row["survival"] if row[column] is None else row[column]


def _retention_hover(name: str, row: Row) -> str:
    interval = fmt.interval(row["ci_low"], row["ci_high"], fmt.pct)
    return (
        f"<b>{name}</b><br>day {row['day']}: {fmt.pct(row['survival'])} not closed early"
        + (f" (95% interval {interval})" if interval else "")
        + f"<br>n = {fmt.count(row['matches'])} matches · {fmt.count(row['at_risk'])} lasted "
        f"{row['day']}+ days · {fmt.count(row['closed_early'])} closed early by then"
    )


def _transparent(color: str) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},0.12)"


# --- closures -------------------------------------------------------------------------------
def _reasons_chart(rows: list[Row]) -> go.Figure | None:
    return category_chart(
        [row for row in rows if row["closed_early"]],
        [Series(name, column, color) for column, name, color in REASONS],
        Axis("early closures", fmt.count, ",.0f"),
        barmode="stack",
        detail=lambda row, _s: (
            f"<br>of {fmt.count(row['closed_early'])} early closures · "
            f"n = {fmt.count(row['ended'])} ended matches"
        ),
    )


def _closure_rate_chart(rows: list[Row]) -> go.Figure | None:
    return category_chart(
        rows,
        [
            Series(
                "Early-closure rate",
                "early_closure_rate",
                PALETTE[3],
                kind="dot",
                low="early_closure_ci_low",
                high="early_closure_ci_high",
            )
        ],
        SHARE_AXIS,
        detail=lambda row, _s: (
            f"<br>{fmt.count(row['closed_early'])} of n = {fmt.count(row['ended'])} ended "
            f"matches · {fmt.count(row['matches'])} matches in all"
        ),
        note=lambda _row, _s: "no match has ended yet",
    )


# --- intake to closing ----------------------------------------------------------------------
def _change_chart(rows: list[Row], k: int) -> go.Figure | None:
    def note(row: Row, series: Series) -> str:
        prefix = series.value.removesuffix("_change")
        if row[f"{prefix}_suppressed"]:
            return f"suppressed: {fmt.fewer_than(k)}"
        return "no intake–closing pairs yet"

    return category_chart(
        rows,
        [
            Series(
                ROLE_NAMES[prefix],
                f"{prefix}_change",
                color,
                kind="dot",
                low=f"{prefix}_low",
                high=f"{prefix}_high",
            )
            for prefix, color in zip(ROLES.values(), PALETTE, strict=False)
        ],
        Axis("change, closing − intake (1–5 scale)", fmt.signed_decimal),
        label=lambda row: ITEMS.get(row["item"], fmt.esc(row["item"])),
        keys=("program",),
        detail=lambda row, series: (
            f"<br>n = {fmt.count(row[series.value.replace('_change', '_n')])} pairs · "
            f"{fmt.count(row[series.value.replace('_change', '_respondents')])} people"
        ),
        note=note,
        marks=[(0, "no change")],
    )


# --- pairings -------------------------------------------------------------------------------
DESIGN_SERIES = [
    ("Early-closure rate", "early_closure_rate", "early_closure_ci", PALETTE[3], "ended"),
    ("Goal attainment", "goal_attainment_rate", "goal_attainment_ci", PALETTE[1], "goals_decided"),
    ("Cadence attainment (mean)", "cadence_attainment_mean", None, PALETTE[0], "matches"),
]
DESIGN_BASES = {"ended": "ended matches", "goals_decided": "goals decided", "matches": "matches"}


def _design_charts(rows: list[Row]) -> str:
    if not rows:
        return '<p class="muted">No data yet.</p>'
    panels = []
    for attribute, (title, names) in ATTRIBUTES.items():
        shown = [row for row in rows if row["attribute"] == attribute]
        figure = category_chart(
            shown,
            [
                Series(
                    name, value, color, kind="dot", low=ci and f"{ci}_low", high=ci and f"{ci}_high"
                )
                for name, value, ci, color, _ in DESIGN_SERIES
            ],  # fmt: skip
            SHARE_AXIS,
            label=lambda row, names=names: (
                f"{names.get(row['level'], 'Unknown')}<br>"
                f'<span style="font-size:11px;color:{MUTED}">n = '
                f"{fmt.count(row['matches'])} matches</span>"
            ),
            keys=("program",),
            detail=_design_detail,
            note=lambda _row, series: f"no {DESIGN_BASES[_base(series)]} yet",
        )
        panels.append(f"<div><h3>{title}</h3>{chart(f'design-{attribute}-chart', figure)}</div>")
    return f'<div class="multiples">{"".join(panels)}</div>'


def _base(series: Series) -> str:
    return next(base for _, value, _, _, base in DESIGN_SERIES if value == series.value)


def _design_detail(row: Row, series: Series) -> str:
    base = _base(series)
    return f"<br>n = {fmt.count(row[base])} {DESIGN_BASES[base]}"


# --- reliability ----------------------------------------------------------------------------
def _reliability_columns(k: int) -> list[Column]:
    return [
        Column("Survey wave", lambda row: fmt.esc(row["survey_id"])),
        Column("Role", lambda row: ROLE_NAMES[ROLES.get(row["role"], "both")]),
        Column(
            "n",
            lambda row: fmt.count(row["n_complete"]),
            numeric=True,
            about="Responses answering all six items",
        ),
        Column(
            "Alpha",
            lambda row: "—" if row["alpha"] is None else f"{row['alpha']:.2f}",
            numeric=True,
            about="Cronbach's alpha of the six items",
            warn=lambda row: row["alpha"] is not None and row["alpha"] < RELIABLE_ALPHA,
        ),
        Column("Reading", lambda row: reliability_reading(row, k)),
    ]


def reliability_reading(row: Row, k: int) -> str:
    """Plain words for an alpha (or for why there is none)."""
    if row["alpha"] is None:
        if row["n_respondents"] < k:
            return f"not shown: {fmt.fewer_than(k)} answering all six items"
        if row["n_complete"] < 2:
            return "too few complete responses"
        return "everyone gave the same answers: nothing to measure"
    if row["alpha"] < RELIABLE_ALPHA:
        return "the items do not measure one thing consistently"
    return "the items measure one thing consistently"


def _layout(*, height: int) -> dict:
    return {
        "template": "none",
        "height": height,
        "margin": {"l": 56, "r": 24, "t": 24, "b": 48},
        "font": {"family": FONT, "size": 12, "color": INK},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "showlegend": True,
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "hoverlabel": {"bgcolor": "white", "bordercolor": GRID, "font": {"family": FONT}},
        "hovermode": "closest",
    }
