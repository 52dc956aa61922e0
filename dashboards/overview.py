"""Overview: health score and band per cohort with its components, KPI tiles, monthly trends."""

from __future__ import annotations

from dashboards import fmt
from dashboards.figures import PALETTE, Axis, Series, category_chart
from dashboards.page import (
    PICK_GROUP,
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
from dashboards.sql import GROUP_ORDER, MAX_WAVES, RECENT_WAVE, WAVE_ORDER, Row, fetch, per_group
from dashboards.trends import trend_rows, trend_section

TITLE = "Overview"
LEDE = "How each program and cohort is doing: health score, its parts, key figures and trends."

BAND_COLORS = {"green": "#16a34a", "amber": "#f59e0b", "red": "#dc2626"}

_CADENCE = per_group(
    "count(*) AS matches_total, "
    "count(*) FILTER (WHERE is_active AND status <> 'too_early') AS on_track_n",
    "marts.match_cadence",
)
HEALTH_SQL = f"""
WITH cadence AS ({_CADENCE}),
goals AS (
    SELECT program, cohort, attainment_ci_low, attainment_ci_high,
        goals_achieved + goals_abandoned + goals_overdue AS attainment_n
    FROM marts.goal_attainment WHERE horizon = 'all'
),
-- The survey tiles show one wave per group: the most answered of the recent waves, so a
-- fresh, still small wave does not hide the figures behind "fewer than k responses".
wave AS (
    SELECT program, cohort, survey_id, response_rate, invitations, responses
    FROM marts.survey_response_rates
    WHERE role = '(all)' AND {RECENT_WAVE}
    QUALIFY row_number() OVER (PARTITION BY program, cohort ORDER BY responses DESC, {WAVE_ORDER}) = 1
),
satisfaction AS (
    SELECT program, cohort, survey_id, mean AS satisfaction_wave,
        n_respondents AS satisfaction_n, suppressed AS satisfaction_suppressed
    FROM marts.feedback_scores WHERE role = '(all)' AND item = 'satisfaction'
),
nps AS (
    SELECT program, cohort, survey_id, nps, nps_ci_low, nps_ci_high,
        n_respondents AS nps_n, suppressed AS nps_suppressed
    FROM marts.nps WHERE role = '(all)'
)
SELECT *,
    100 * on_track_share AS cadence_part,
    100 * goal_attainment_rate AS goals_part,
    100 * (satisfaction_mean - 1) / 4 AS satisfaction_part,
    100 * response_rate_90d AS engagement_part
FROM marts.program_health
LEFT JOIN cadence USING (program, cohort)
LEFT JOIN goals USING (program, cohort)
LEFT JOIN wave USING (program, cohort)
LEFT JOIN satisfaction USING (program, cohort, survey_id)
LEFT JOIN nps USING (program, cohort, survey_id)
ORDER BY {GROUP_ORDER}
"""

# The health score's parts: (legend name, column, weight, why a part can be missing).
PARTS = [
    ("Cadence", "cadence_part", 0.35, "no pairs past their first weeks"),
    ("Goals", "goals_part", 0.25, "no resolved goals"),
    ("Satisfaction", "satisfaction_part", 0.25, None),  # None: fewer than k respondents
    ("Response", "engagement_part", 0.15, "no invitations in 90 days"),
]
SCORE_AXIS = Axis("score (0–100)", lambda v: f"{v:.0f}", range=(0, 100))


def build(ctx: Context) -> Body:
    rows = fetch(ctx.con, HEALTH_SQL)
    trends = trend_rows(ctx)
    return Body(
        filters=group_filters(ctx),
        sections=[
            key_figures(
                tile_groups(rows, lambda row: _tiles(row, ctx)),
                PICK_GROUP + " "
                "Each figure shows how many records it rests on (n). Survey figures come from "
                f"the most answered of the {MAX_WAVES} newest survey waves, named under each.",
            ),
            section(
                "health",
                "Health score by cohort",
                "0–100, weighted from cadence 35%, goals 25%, satisfaction 25% and survey "
                "response 15% (missing parts are left out). Green ≥ 75, amber ≥ 60, red below.",
                chart("health-chart", _health_chart(rows)),
            ),
            section(
                "parts",
                "What makes up the score",
                "Each part on a 0–100 scale: share of active pairs on track, goal attainment, "
                "satisfaction (1 → 0, 5 → 100) over 90 days, survey response rate over 90 days.",
                chart("parts-chart", _parts_chart(rows, ctx)),
            ),
            trend_section(
                trends,
                "trend-active",
                "Active matches per month",
                "Pairs matched and not ended at each month end.",
                [Series("Active matches", "active_matches")],
                Axis("active matches", fmt.count, ",.0f"),
            ),
            trend_section(
                trends,
                "trend-meetings",
                "Meetings held per month",
                "Completed meetings dated in each month.",
                [Series("Meetings held", "meetings_held")],
                Axis("meetings held", fmt.count, ",.0f"),
            ),
            trend_section(
                trends,
                "trend-on-track",
                "On-track share per month",
                "Share of active pairs meeting at their target pace at each month end.",
                [Series("On-track share", "on_track_share")],
                Axis("on track", fmt.pct, ".0%", (0, 1)),
            ),
            trend_section(
                trends,
                "trend-satisfaction",
                "Satisfaction per month",
                "Mean overall satisfaction (1–5) of survey answers submitted in each month.",
                [Series("Satisfaction", "satisfaction_mean")],
                Axis("satisfaction (1–5)", fmt.decimal, ".1f", (1, 5)),
            ),
        ],
    )


def _tiles(row: Row, ctx: Context) -> list[Tile]:
    k = ctx.min_group_size
    parts = sum(row[column] is not None for _, column, _, _ in PARTS)
    return [
        value_tile(
            "Health score",
            row["health_score"],
            lambda score: f"{score:.0f} {fmt.band_badge(row['health_band'])}",
            f"from {parts} of 4 parts",
            "0–100: cadence 35%, goals 25%, satisfaction 25%, response 15%.",
            missing="not enough data",
        ),
        Tile(
            "Active matches",
            fmt.count(row["active_matches"]),
            f"of n = {fmt.count(row['matches_total'])} matches so far",
            "Pairs matched by the as-of date and not ended.",
        ),
        value_tile(
            "On track",
            row["on_track_share"],
            fmt.pct,
            f"n = {fmt.count(row['on_track_n'])} active pairs past their first weeks",
            "Share of pairs meeting at their target pace.",
        ),
        value_tile(
            "Goal attainment",
            row["goal_attainment_rate"],
            fmt.pct,
            f"n = {fmt.count(row['attainment_n'])} goals achieved, abandoned or overdue",
            "Achieved ÷ (achieved + abandoned + overdue)."
            + fmt.interval_sentence(row["attainment_ci_low"], row["attainment_ci_high"], fmt.pct),
        ),
        value_tile(
            "Satisfaction",
            row["satisfaction_wave"],
            lambda mean: f"{mean:.1f} / 5",
            f"n = {fmt.count(row['satisfaction_n'])} respondents · {fmt.esc(row['survey_id'])}",
            "Mean overall satisfaction (1–5) in that wave.",
            missing=fmt.missing_survey_figure(row["satisfaction_suppressed"], k),
        ),
        value_tile(
            "NPS",
            row["nps"],
            fmt.signed,
            f"n = {fmt.count(row['nps_n'])} respondents · {fmt.esc(row['survey_id'])}",
            "% promoters (9–10) minus % detractors (0–6)."
            + fmt.interval_sentence(row["nps_ci_low"], row["nps_ci_high"], fmt.signed),
            missing=fmt.missing_survey_figure(row["nps_suppressed"], k),
        ),
        value_tile(
            "Response rate",
            row["response_rate"],
            fmt.pct,
            f"n = {fmt.count(row['invitations'])} invitations · {fmt.esc(row['survey_id'])}",
            "Share of the wave's invitations answered.",
            missing="no invitations yet",
        ),
    ]


def _health_chart(rows: list[Row]):
    def detail(row: Row, _series: Series) -> str:
        lines = [f"band: {row['health_band']}"]
        lines += [
            f"{name}: {SCORE_AXIS.fmt(row[column]) if row[column] is not None else '—'}"
            for name, column, _, _ in PARTS
        ]
        return "<br>" + "<br>".join(lines)

    return category_chart(
        rows,
        [
            Series(
                "Health score",
                "health_score",
                lambda row: BAND_COLORS.get(row["health_band"], "#9ca3af"),
            )
        ],
        SCORE_AXIS,
        detail=detail,
        note=lambda _row, _s: "not enough data",
        values_on_bars=True,
        marks=((60, "amber 60"), (75, "green 75")),
    )


def _parts_chart(rows: list[Row], ctx: Context):
    reasons = {
        column: reason or fmt.fewer_than(ctx.min_group_size) for _, column, _, reason in PARTS
    }
    weights = {column: weight for _, column, weight, _ in PARTS}

    return category_chart(
        rows,
        [
            Series(name, column, color)
            for (name, column, _, _), color in zip(PARTS, PALETTE, strict=False)
        ],
        SCORE_AXIS,
        detail=lambda row, series: f"<br>weight {weights[series.value]:.0%}",
        note=lambda _row, series: reasons[series.value],
    )
