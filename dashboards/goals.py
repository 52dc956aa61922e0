"""Goals: attainment with intervals, the status funnel, time to achieve, how late overdue goals
are, quality. Public: counts only; the overdue goals themselves, with the pairs' names, are on
the restricted at-risk page."""

from __future__ import annotations

from dashboards import fmt, glossary
from dashboards.figures import PALETTE, Axis, Series, category_chart
from dashboards.headline import headline_rows, live, make_tiles
from dashboards.page import (
    Body,
    Context,
    Tile,
    chart,
    group_filters,
    key_figures,
    section,
    tile_groups,
    value_tile,
)
from dashboards.sql import Row, fetch, in_time_order, per_group, pivot
from dashboards.trends import trend_rows, trend_section

TITLE = "Goals"
LEDE = "Are pairs setting good goals and reaching them?"

TILES = ["attainment", "overdue", "coverage"]
HORIZONS = {"short_term": "short", "long_term": "long", "(all)": "all"}
# Overdue goals of active pairs by days past their target date: (column, label, colour, rule).
LATENESS = [
    ("late_30", "up to 30 days", "#fbbf24", "days_late <= 30"),
    ("late_90", "31–90 days", "#f97316", "days_late BETWEEN 31 AND 90"),
    ("late_more", "over 90 days", "#dc2626", "days_late > 90"),
]

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
        "undated": "goals_open_undated",
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

_LATENESS = per_group(
    ", ".join(
        [
            "count(*) AS overdue_active",
            *(f"count(*) FILTER (WHERE {rule}) AS {column}" for column, _, _, rule in LATENESS),
        ]
    ),
    """(SELECT g.program, g.cohort, date_diff('day', g.target_date, CAST($as_of AS DATE)) AS days_late
        FROM marts.goal_status AS g JOIN marts.match_cadence AS mc USING (match_id)
        WHERE g.is_overdue AND mc.is_active)""",
)

# One row per (program, cohort) with goals: per-horizon figures (short_, long_, all_ columns).
GOALS_SQL = in_time_order(f"""
WITH attainment AS (
    SELECT program, cohort, {_ATTAINMENT_BY_HORIZON}
    FROM marts.goal_attainment
    GROUP BY program, cohort
),
funnel AS ({_FUNNEL}),
coverage AS ({_COVERAGE_BASE}),
lateness AS ({_LATENESS})
SELECT *,
    (all_open - all_overdue) / nullif(all_set, 0) AS open_on_time_share,
    all_overdue / nullif(all_set, 0) AS overdue_share,
    all_achieved / nullif(all_set, 0) AS achieved_share,
    all_abandoned / nullif(all_set, 0) AS abandoned_share
FROM attainment
LEFT JOIN funnel USING (program, cohort)
LEFT JOIN (SELECT program, cohort, goal_coverage FROM marts.program_health) USING (program, cohort)
LEFT JOIN coverage USING (program, cohort)
LEFT JOIN lateness USING (program, cohort)
""")

STATUS_PARTS = [
    ("Achieved", "achieved_share", "achieved", "#16a34a"),
    ("Open, on time", "open_on_time_share", None, "#93c5fd"),
    ("Overdue", "overdue_share", "overdue", "#f59e0b"),
    ("Abandoned", "abandoned_share", "abandoned", "#9ca3af"),
]
RATE_AXIS = Axis("goal attainment", fmt.pct, ".0%", (0, 1))


def build(ctx: Context) -> Body:
    rows = fetch(ctx.con, GOALS_SQL, as_of=ctx.as_of)
    trends = trend_rows(ctx)
    return Body(
        filters=group_filters(ctx),
        sections=[
            key_figures(tile_groups(live(headline_rows(ctx)), make_tiles(ctx, TILES))),
            section(
                "details",
                "More goal figures",
                "As of the as-of date, per program and cohort (no monthly history yet).",
                tile_groups(rows, _tiles),
                wide=True,
            ),
            section(
                "attainment",
                "Goal attainment by horizon",
                "Achieved ÷ (achieved + abandoned + overdue) for short-term, long-term and all "
                f"goals. {glossary.HORIZON} The whisker is the 95% interval: wide means few "
                "goals to judge by. Open goals without a target date can never be overdue, so "
                "they are left out of the rate (the hover counts them).",
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
                f"{glossary.SMART} Coverage: pairs matched 30+ days ago that set a goal within "
                "their first 30 days.",
                chart("quality-chart", _quality_chart(rows)),
            ),
            section(
                "overdue",
                "How late overdue goals are",
                "Open goals of active pairs past their target date, by days late. Ended pairs' "
                "goals are left out; the goals themselves, with the pairs to contact, are on the "
                "restricted at-risk page.",
                chart("overdue-chart", _lateness_chart(rows)),
            ),
            trend_section(
                trends,
                "trend-goals-set",
                "Goals set per month",
                "Goals set in each month.",
                Series("Goals set", "goals_set"),
                Axis("goals set", fmt.count, ",.0f"),
            ),
            trend_section(
                trends,
                "trend-goals-achieved",
                "Goals achieved per month",
                "Goals achieved in each month.",
                Series("Goals achieved", "goals_achieved"),
                Axis("goals achieved", fmt.count, ",.0f"),
            ),
        ],
    )


def _tiles(row: Row) -> list[Tile]:
    return [
        Tile(
            "Goals set",
            fmt.count(row["all_set"]),
            f"{fmt.count(row['all_open'])} open · {fmt.count(row['all_achieved'])} achieved",
            "Goals set by pairs in this group.",
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
    ]


def _lateness_chart(rows: list[Row]):
    shown = [row for row in rows if row["overdue_active"]]
    return category_chart(
        shown,
        [Series(label, column, color) for column, label, color, _ in LATENESS],
        Axis("overdue goals", fmt.count, ",.0f"),
        barmode="stack",
        detail=lambda row, _s: f"<br>of {fmt.count(row['overdue_active'])} overdue goals",
    )


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
            f" · {fmt.count(row[series.value.replace('_rate', '_undated')])} open without a "
            "target date, left out"
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
