"""Outcomes: do matches last, do answers change between intake and closing, which ways of
pairing go with lasting matches, and do the surveys measure consistently. Public: aggregates of
the outcome marts only (survey figures come suppressed from the warehouse)."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboards import fmt, glossary
from dashboards.figures import FONT, GRID, INK, MUTED, PALETTE, Axis, Series, category_chart
from dashboards.page import Body, Column, Context, Filter, Option, chart, section, table
from dashboards.sql import ALL, WAVE_ORDER, Row, fetch, in_time_order, pivot, table_exists, within

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
MIN_COMPLETE_FOR_ALPHA = 10  # below this the mart gives no alpha (METRICS.md)
MIN_AT_RISK = 10  # figures resting on fewer matches still followed are greyed out
SHAKY = "#cbd5e1"  # the grey of a figure resting on fewer than MIN_AT_RISK matches
NO_DIFFERENCE = "no detectable difference"
TOO_EARLY = "too early to tell: no match followed a year yet"
MAX_WAVES = 8  # newest survey waves per program in the reliability table
SHARE_AXIS = Axis("share", fmt.pct, ".0%", (0, 1))

RETENTION_SQL = in_time_order("SELECT * FROM marts.match_retention", "day")
# at_risk_365: matches followed a year or more, on which early_closure_rate rests.
CLOSURES_SQL = in_time_order(
    "SELECT c.*, r.at_risk AS at_risk_365 FROM marts.match_closures AS c "
    "LEFT JOIN marts.match_retention AS r ON r.program = c.program AND r.cohort = c.cohort "
    "AND r.day = 365"
)
CHANGE_SQL = f"""
    SELECT program, item, {
    pivot(
        {
            "change": "mean_change",
            "low": within("ci_low", -4, 4),
            "high": within("ci_high", -4, 4),
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
# One row per (program, attribute): the log-rank test of the attribute's levels.
TESTS_SQL = """
    SELECT program, attribute, any_value(logrank_p) AS logrank_p,
        any_value(logrank_p_holm) AS logrank_p_holm, count(*) AS levels
    FROM marts.match_design WHERE program <> '(all)'
    GROUP BY ALL ORDER BY program, attribute"""
RELIABILITY_SQL = f"""
    SELECT * FROM marts.survey_reliability
    QUALIFY dense_rank() OVER (PARTITION BY program ORDER BY {WAVE_ORDER}) <= {MAX_WAVES}
    ORDER BY program, {WAVE_ORDER}, CASE role WHEN '(all)' THEN 2 WHEN 'mentee' THEN 0 ELSE 1 END"""


def build(ctx: Context) -> Body:
    retention = _rows(ctx, "marts.match_retention", RETENTION_SQL)
    closures = _rows(ctx, "marts.match_closures", CLOSURES_SQL)
    change = _rows(ctx, "marts.survey_change", CHANGE_SQL)
    design = _rows(ctx, "marts.match_design", DESIGN_SQL)
    tests = _rows(ctx, "marts.match_design", TESTS_SQL)
    reliability = _rows(ctx, "marts.survey_reliability", RELIABILITY_SQL)
    return Body(
        filters=[_program_filter(ctx)],
        css=CSS,
        sections=[
            section(
                "retention",
                "Early closure over time",
                "Estimated share of matches that close early within 30, 90, 180 and 365 days "
                f"of matching. {glossary.CUMULATIVE_INCIDENCE} {glossary.KAPLAN_MEIER} "
                "The band is the 95% interval; a curve stops where no match has been followed "
                f"that long yet, and points resting on fewer than {MIN_AT_RISK} matches still "
                "followed are grey: too few to read.",
                chart("retention-chart", _retention_chart(retention)),
            ),
            section(
                "closures",
                "Early closures",
                "Matches that ended before completing, by the reason recorded, per cohort; and "
                "the estimated share of matches that close early within a year of matching.",
                "<h3>Early closures so far, by reason</h3>"
                + chart("closure-reasons-chart", _reasons_chart(closures))
                + "<h3>Estimated share of matches that close early within a year</h3>"
                + '<p class="explain">Cumulative incidence at 365 days, with its 95% interval '
                "(not the share of ended matches: in a young cohort most of the ends so far are "
                f"early ones). Grey: fewer than {MIN_AT_RISK} matches followed a year.</p>"
                + chart("closure-rate-chart", _closure_rate_chart(closures)),
            ),
            section(
                "change",
                "From intake to closing",
                "Mean change of each answer (1–5) from a person's intake survey to their "
                "closing survey of the same match, all cohorts; the whisker is the 95% "
                "interval (people answering for several matches counted as one source). "
                f"{glossary.SURVEY_CHANGE} Groups under {ctx.k} respondents are suppressed.",
                chart("change-chart", _change_chart(change, ctx.k)),
                wide=True,
            ),
            section(
                "design",
                "Which pairings work",
                "Estimated share closing early within a year, goal attainment and cadence "
                "attainment by how pairs were formed, with 95% intervals. These are "
                "associations in your program's data, not effects: pairings differ in other "
                f"ways too. Grey: fewer than {MIN_AT_RISK} matches. Below, whether early "
                "closure differs between the levels at all: a log-rank test per attribute "
                "(which compares how fast matches close early at each level), with its p-value "
                "adjusted for testing three attributes (Holm); 0.05 or more means no "
                "detectable difference.",
                _design_charts(design) + _tests_table(tests),
                wide=True,
            ),
            section(
                "reliability",
                "Do the surveys measure consistently?",
                f"{glossary.CRONBACH_ALPHA} Per survey wave and role, over responses that "
                f"answer all six, with its 95% interval (Feldt); shown only from "
                f"{MIN_COMPLETE_FOR_ALPHA} complete responses. Below {RELIABLE_ALPHA}: the items "
                "do not measure one thing consistently, so read them one by one.",
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
        points = [r for r in group if r["early_closure"] is not None]
        color = INK if cohort == ALL else PALETTE[index % len(PALETTE)]
        meta = {"rule": "series", "keys": {"program": program}}
        name = f"{label} (n = {fmt.count(group[0]['matches'])})"
        days = [0, *(r["day"] for r in points)]
        low = [0.0, *(_edge(r, "early_closure_ci_low") for r in points)]
        high = [0.0, *(_edge(r, "early_closure_ci_high") for r in points)]
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
                y=[0.0, *(r["early_closure"] for r in points)],
                name=name,
                mode="lines+markers",
                line={"color": color, "width": 3 if cohort == ALL else 2},
                marker={"color": [color, *(_shaded(r["at_risk"], color) for r in points)]},
                hovertext=[f"<b>{name}</b><br>day 0: none closed early yet"]
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
        yaxis={"title": {"text": "estimated share closed early", "font": {"color": MUTED}},
               "tickformat": ".0%", "range": [0, 1.02], "fixedrange": True, "gridcolor": GRID},
    )  # fmt: skip
    return fig


def _edge(row: Row, column: str) -> float:
    """An interval bound, or the estimate itself where there is no interval (0% or 100%)."""
    return row["early_closure"] if row[column] is None else row[column]


def _shaded(at_risk: int | None, color: str) -> str:
    """Grey for a figure resting on fewer than MIN_AT_RISK matches still followed."""
    return SHAKY if at_risk is None or at_risk < MIN_AT_RISK else color


def _retention_hover(name: str, row: Row) -> str:
    interval = fmt.interval(row["early_closure_ci_low"], row["early_closure_ci_high"], fmt.pct)
    shaky = (
        f"<br>only {fmt.count(row['at_risk'])} matches followed this long: too few to read"
        if row["at_risk"] < MIN_AT_RISK
        else ""
    )
    return (
        f"<b>{name}</b><br>day {row['day']}: an estimated {fmt.pct(row['early_closure'])} "
        "closed early"
        + (f" (95% interval {interval})" if interval else "")
        + f"<br>n = {fmt.count(row['matches'])} matches · {fmt.count(row['at_risk'])} followed "
        f"{row['day']}+ days · {fmt.count(row['closed_early'])} closed early and "
        f"{fmt.count(row['completed'])} completed by then" + shaky
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
                "Closing early within a year (estimated)",
                "early_closure_rate",
                lambda row: _shaded(row["at_risk_365"], PALETTE[3]),
                kind="dot",
                low="early_closure_ci_low",
                high="early_closure_ci_high",
            )
        ],
        SHARE_AXIS,
        detail=lambda row, _s: (
            f"<br>n = {fmt.count(row['matches'])} matches · "
            f"{fmt.count(row['at_risk_365'])} followed a year or more · "
            f"{fmt.count(row['closed_early'])} closed early so far"
        ),
        note=lambda _row, _s: TOO_EARLY,
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
    (
        "Closing early within a year",
        "early_closure_rate",
        "early_closure_ci",
        PALETTE[3],
        "matches",
    ),
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
                    name,
                    value,
                    _by_size(color),
                    kind="dot",
                    low=ci and f"{ci}_low",
                    high=ci and f"{ci}_high",
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
            note=_design_note,
        )
        panels.append(f"<div><h3>{title}</h3>{chart(f'design-{attribute}-chart', figure)}</div>")
    return f'<div class="multiples">{"".join(panels)}</div>'


def _by_size(color: str):
    return lambda row: _shaded(row["matches"], color)


def _design_note(row: Row, series: Series) -> str:
    if series.value == "early_closure_rate":
        return TOO_EARLY
    return f"no {DESIGN_BASES[_base(series)]} yet"


def difference_verdict(row: Row) -> str:
    """Plain words for an attribute's log-rank test (Holm-adjusted p)."""
    if row["logrank_p_holm"] is None:
        if row["levels"] < 2:
            return "one level only: nothing to compare"
        return "no test possible yet (no early closure, or a level with no match at risk)"
    if row["logrank_p_holm"] >= 0.05:
        return NO_DIFFERENCE
    return "early closure differs between the levels (an association, not an effect)"


def _tests_table(rows: list[Row]) -> str:
    columns = [
        Column(
            "Attribute", lambda r: ATTRIBUTES.get(r["attribute"], (fmt.esc(r["attribute"]),))[0]
        ),
        Column("Early closure by level", difference_verdict),
        Column(
            "p (Holm)",
            lambda r: "—" if r["logrank_p_holm"] is None else f"{r['logrank_p_holm']:.3f}",
            numeric=True,
            about="Log-rank p-value adjusted by Holm's method over the program's attributes",
        ),
        Column(
            "p (one test)",
            lambda r: "—" if r["logrank_p"] is None else f"{r['logrank_p']:.3f}",
            numeric=True,
            about="Log-rank p-value of this attribute alone",
        ),
    ]
    return "<h3>Is there a difference?</h3>" + table(
        rows, columns, keys=("program",), empty="No matches yet."
    )


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
            lambda row: "—" if _alpha(row) is None else f"{row['alpha']:.2f}",
            numeric=True,
            about=glossary.CRONBACH_ALPHA,
            warn=lambda row: _alpha(row) is not None and row["alpha"] < RELIABLE_ALPHA,
        ),
        Column(
            "95% interval",
            lambda row: (
                "—"
                if _alpha(row) is None or row["alpha_ci_low"] is None
                else f"{row['alpha_ci_low']:.2f} to {row['alpha_ci_high']:.2f}"
            ),
            numeric=True,
            about="Feldt's 95% interval of alpha",
        ),
        Column("Reading", lambda row: reliability_reading(row, k)),
    ]


def _alpha(row: Row) -> float | None:
    """The alpha to show: never one from fewer than MIN_COMPLETE_FOR_ALPHA responses."""
    return row["alpha"] if row["n_complete"] >= MIN_COMPLETE_FOR_ALPHA else None


def reliability_reading(row: Row, k: int) -> str:
    """Plain words for an alpha (or for why there is none)."""
    if _alpha(row) is None:
        if row["n_complete"] < MIN_COMPLETE_FOR_ALPHA:
            return (
                f"not shown: fewer than {MIN_COMPLETE_FOR_ALPHA} responses answering all six items"
            )
        if row["n_respondents"] < k:
            return f"not shown: {fmt.fewer_than(k)} answering all six items"
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
