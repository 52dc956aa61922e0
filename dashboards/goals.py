"""Goals: attainment with intervals, the status funnel, time to achieve, overdue goals, quality."""

from __future__ import annotations

from dashboards import fmt
from dashboards.figures import PALETTE, Axis, Series, category_chart
from dashboards.page import (
    Body,
    Column,
    Context,
    Tile,
    chart,
    group_filters,
    key_figures,
    section,
    table,
    tile_groups,
    value_tile,
)
from dashboards.sql import GROUP_ORDER, Row, fetch, per_group, pivot
from dashboards.trends import trend_rows, trend_section

TITLE = "Goals"
LEDE = "Are pairs setting good goals and reaching them?"

HORIZONS = {"short_term": "short", "long_term": "long", "all": "all"}
OVERDUE_LIMIT = 200

_ATTAINMENT_BY_HORIZON = pivot(
    {
        "rate": "attainment_rate",
        "low": "attainment_ci_low",
        "high": "attainment_ci_high",
        "n": "goals_achieved + goals_abandoned + goals_overdue",
        "set": "goals_set",
        "achieved": "goals_achieved",
        "abandoned": "goals_abandoned",
        "open": "goals_open",
        "overdue": "goals_overdue",
        "median_days": "median_days_to_achieve",
        "smart_share": "smart_share",
    },
    "horizon",
    HORIZONS,
)
_FUNNEL = per_group(
    "count(*) AS funnel_set, "
    "count(*) FILTER (WHERE progress_pct > 0 OR status = 'achieved') AS funnel_progressed, "
    "count(*) FILTER (WHERE status = 'achieved') AS funnel_achieved",
    "marts.goal_status",
)
# The pairs goal coverage is computed over: matched at least 30 days before D.
_COVERAGE_BASE = per_group(
    "count(*) AS coverage_n", "marts.match_cadence", "matched_on <= CAST($as_of AS DATE) - 30"
)

# One row per (program, cohort) with goals: per-horizon figures (short_, long_, all_ columns).
GOALS_SQL = f"""
WITH attainment AS (
    SELECT program, cohort, {_ATTAINMENT_BY_HORIZON}
    FROM marts.goal_attainment
    GROUP BY program, cohort
),
funnel AS ({_FUNNEL}),
coverage AS ({_COVERAGE_BASE})
SELECT *,
    (all_open - all_overdue) / nullif(all_set, 0) AS open_on_time_share,
    all_overdue / nullif(all_set, 0) AS overdue_share,
    all_achieved / nullif(all_set, 0) AS achieved_share,
    all_abandoned / nullif(all_set, 0) AS abandoned_share
FROM attainment
LEFT JOIN funnel USING (program, cohort)
LEFT JOIN (SELECT program, cohort, goal_coverage FROM marts.program_health) USING (program, cohort)
LEFT JOIN coverage USING (program, cohort)
ORDER BY {GROUP_ORDER}
"""

OVERDUE_SQL = f"""
SELECT program, cohort, match_id, goal_id, title, horizon, target_date, progress_pct,
    date_diff('day', target_date, CAST($as_of AS DATE)) AS days_overdue,
    count(*) OVER () AS total
FROM marts.goal_status
WHERE is_overdue
ORDER BY target_date, goal_id
LIMIT {OVERDUE_LIMIT}
"""

STATUS_PARTS = [
    ("Achieved", "achieved_share", "achieved", "#16a34a"),
    ("Open, on time", "open_on_time_share", None, "#93c5fd"),
    ("Overdue", "overdue_share", "overdue", "#f59e0b"),
    ("Abandoned", "abandoned_share", "abandoned", "#9ca3af"),
]
RATE_AXIS = Axis("goal attainment", fmt.pct, ".0%", (0, 1))


def build(ctx: Context) -> Body:
    rows = fetch(ctx.con, GOALS_SQL, as_of=ctx.as_of)
    overdue = fetch(ctx.con, OVERDUE_SQL, as_of=ctx.as_of)
    trends = trend_rows(ctx)
    return Body(
        filters=group_filters(ctx),
        sections=[
            key_figures(tile_groups(rows, _tiles)),
            section(
                "attainment",
                "Goal attainment by horizon",
                "Achieved ÷ (achieved + abandoned + overdue) for short-term, long-term and all "
                "goals. The whisker is the 95% interval: wide means few goals to judge by.",
                chart("attainment-chart", _attainment_chart(rows)),
            ),
            section(
                "funnel",
                "Goal funnel",
                "How far goals get: set → progress logged → achieved. The hover shows each "
                "step as a share of goals set.",
                chart("funnel-chart", _funnel_chart(rows)),
            ),
            section(
                "status",
                "Goal status by cohort",
                "Share of all goals set. Overdue: still open after its target date.",
                chart("status-chart", _status_chart(rows)),
            ),
            section(
                "time",
                "Time to achieve",
                "Median days from setting a goal to achieving it.",
                chart("time-chart", _time_chart(rows)),
            ),
            section(
                "quality",
                "SMART goals and goal coverage",
                "SMART: goals with a measure and a target date. Coverage: pairs matched 30+ days "
                "ago that set a goal within their first 30 days.",
                chart("quality-chart", _quality_chart(rows)),
            ),
            trend_section(
                trends,
                "trend-goals",
                "Goals set and achieved per month",
                "Solid: goals set in the month. Dotted: goals achieved in the month.",
                [Series("set", "goals_set"), Series("achieved", "goals_achieved")],
                Axis("goals", fmt.count, ",.0f"),
            ),
            section(
                "overdue",
                "Overdue goals",
                f"Open goals past their target date, oldest first (up to {OVERDUE_LIMIT}"
                f"{_of_total(overdue)}). Click a column to sort.",
                table(overdue, _overdue_columns(), sortable=True, empty="No overdue goals."),
                wide=True,
            ),
        ],
    )


def _of_total(rows: list[Row]) -> str:
    return f" of {fmt.count(rows[0]['total'])}" if rows else ""


def _tiles(row: Row) -> list[Tile]:
    return [
        Tile(
            "Goals set",
            fmt.count(row["all_set"]),
            f"{fmt.count(row['all_open'])} open · {fmt.count(row['all_achieved'])} achieved",
            "Goals set by pairs in this group.",
        ),
        value_tile(
            "Attainment",
            row["all_rate"],
            fmt.pct,
            f"n = {fmt.count(row['all_n'])} goals achieved, abandoned or overdue",
            "Achieved ÷ (achieved + abandoned + overdue)."
            + fmt.interval_sentence(row["all_low"], row["all_high"], fmt.pct),
            missing="no goals resolved yet",
        ),
        Tile(
            "Overdue goals",
            fmt.count(row["all_overdue"]),
            f"of n = {fmt.count(row['all_open'])} open goals",
            "Open goals past their target date.",
        ),
        value_tile(
            "Time to achieve",
            row["all_median_days"],
            fmt.days,
            f"median · n = {fmt.count(row['all_achieved'])} achieved goals",
            "Days from setting a goal to achieving it.",
            missing="none achieved yet",
        ),
        value_tile(
            "SMART goals",
            row["all_smart_share"],
            fmt.pct,
            f"n = {fmt.count(row['all_set'])} goals",
            "Goals with a measure and a target date.",
        ),
        value_tile(
            "Goal coverage",
            row["goal_coverage"],
            fmt.pct,
            f"n = {fmt.count(row['coverage_n'])} pairs matched 30+ days ago",
            "Pairs with a goal set in their first 30 days.",
            missing="no pair matched 30+ days ago",
        ),
    ]


def _attainment_chart(rows: list[Row]):
    names = {"short": "Short-term", "long": "Long-term", "all": "All goals"}
    return category_chart(
        rows,
        [
            Series(
                names[prefix],
                f"{prefix}_rate",
                color,
                kind="dot",
                low=f"{prefix}_low",
                high=f"{prefix}_high",
            )
            for prefix, color in zip(HORIZONS.values(), PALETTE, strict=False)
        ],
        RATE_AXIS,
        detail=lambda row, series: (
            f"<br>n = {fmt.count(row[series.value.replace('_rate', '_n')])} goals resolved"
        ),
        note=lambda _row, _s: "no goals resolved yet",
    )


def _funnel_chart(rows: list[Row]):
    return category_chart(
        rows,
        [
            Series("Set", "funnel_set", PALETTE[0]),
            Series("Progress logged", "funnel_progressed", PALETTE[7]),
            Series("Achieved", "funnel_achieved", "#16a34a"),
        ],
        Axis("goals", fmt.count, ",.0f"),
        detail=lambda row, series: (
            f"<br>{fmt.pct(row[series.value] / row['funnel_set'])} of goals set"
            if row["funnel_set"]
            else ""
        ),
        values_on_bars=True,
    )


def _status_chart(rows: list[Row]):
    counts = {share: count for _, share, count, _ in STATUS_PARTS}

    def detail(row: Row, series: Series) -> str:
        column = counts[series.value]
        goals = row[f"all_{column}"] if column else row["all_open"] - row["all_overdue"]
        return f"<br>{fmt.count(goals)} of {fmt.count(row['all_set'])} goals"

    return category_chart(
        rows,
        [Series(name, share, color) for name, share, _, color in STATUS_PARTS],
        Axis("share of goals set", fmt.pct, ".0%", (0, 1)),
        barmode="stack",
        detail=detail,
    )


def _time_chart(rows: list[Row]):
    return category_chart(
        rows,
        [Series("Median days to achieve", "all_median_days", PALETTE[1])],
        Axis("days (median)", fmt.days, ",.0f"),
        detail=lambda row, _s: f"<br>n = {fmt.count(row['all_achieved'])} achieved goals",
        note=lambda _row, _s: "none achieved yet",
        values_on_bars=True,
    )


def _quality_chart(rows: list[Row]):
    bases = {
        "all_smart_share": lambda row: f"{fmt.count(row['all_set'])} goals",
        "goal_coverage": lambda row: f"{fmt.count(row['coverage_n'])} pairs matched 30+ days ago",
    }
    return category_chart(
        rows,
        [
            Series("SMART share", "all_smart_share", PALETTE[2]),
            Series("Goal coverage", "goal_coverage", PALETTE[1]),
        ],
        Axis("share", fmt.pct, ".0%", (0, 1)),
        detail=lambda row, series: f"<br>n = {bases[series.value](row)}",
        values_on_bars=True,
    )


def _overdue_columns() -> list[Column]:
    return [
        Column("Program", lambda r: fmt.esc(r["program"]), lambda r: r["program"]),
        Column("Cohort", lambda r: fmt.esc(r["cohort"]), lambda r: r["cohort"]),
        Column("Match", lambda r: fmt.esc(r["match_id"]), lambda r: r["match_id"]),
        Column("Goal", lambda r: fmt.esc(r["title"]), lambda r: r["title"]),
        Column(
            "Horizon", lambda r: fmt.esc(r["horizon"]).replace("_", " "), lambda r: r["horizon"]
        ),
        Column(
            "Target date",
            lambda r: fmt.date(r["target_date"]),
            lambda r: fmt.date(r["target_date"]),
        ),
        Column(
            "Days overdue",
            lambda r: fmt.count(r["days_overdue"]),
            lambda r: r["days_overdue"],
            numeric=True,
            about="Days from the target date to the as-of date.",
        ),
        Column(
            "Progress",
            lambda r: fmt.percent_points(r["progress_pct"]),
            lambda r: r["progress_pct"],
            numeric=True,
            about="Latest progress update, 0–100%.",
        ),
    ]
