"""Overview: headline figures per program and live cohort with their change, the health score
and its parts, finished cohorts with their final figures, and monthly trends."""

from __future__ import annotations

from dashboards import fmt
from dashboards.figures import PALETTE, Axis, Series, category_chart
from dashboards.headline import (
    MIN_HEALTH_PARTS,
    finished,
    headline_rows,
    is_scored,
    live,
    make_tiles,
)
from dashboards.page import (
    PICK_GROUP,
    Body,
    Column,
    Context,
    chart,
    group_filters,
    key_figures,
    section,
    table,
    tile_groups,
)
from dashboards.sql import Row
from dashboards.trends import trend_rows, trend_section

TITLE = "Overview"
LEDE = "How each program and cohort is doing: health score, its parts, key figures and trends."

TILES = [
    "health", "active", "on_track", "meetings_per_month", "attainment", "satisfaction", "nps",
    "response",
]  # fmt: skip
BAND_COLORS = {"green": "#16a34a", "amber": "#f59e0b", "red": "#dc2626"}

# The health score's parts: (legend name, column, weight, why a part can be missing).
PARTS = [
    ("On track", "cadence_part", 0.35, "no active pairs past their first weeks"),
    ("Goals", "goals_part", 0.25, "no resolved goals"),
    ("Satisfaction", "satisfaction_part", 0.25, None),  # None: fewer than k respondents
    ("Response", "engagement_part", 0.15, "no invitations in 90 days"),
]
SCORE_AXIS = Axis(
    "score (0–100)", lambda v: fmt.MISSING if v is None else f"{v:.0f}", range=(0, 100)
)


def build(ctx: Context) -> Body:
    rows = [_with_parts(row) for row in headline_rows(ctx)]
    current, done = live(rows), finished(rows)
    scored = [row for row in current if is_scored(row)]
    trends = trend_rows(ctx)
    return Body(
        filters=group_filters(ctx),
        sections=[
            key_figures(
                tile_groups(current, make_tiles(ctx, TILES)),
                PICK_GROUP + " Each figure shows its n and its change since the last month end "
                "(survey figures: since the group's previous wave with enough respondents). "
                "Survey figures come from the newest wave with enough respondents, named.",
            ),
            section(
                "health",
                "Health score by cohort",
                "0–100, weighted from on track 35%, goals 25%, satisfaction 25% and survey "
                "response 15% (missing parts are left out). A score resting on fewer than "
                f"{MIN_HEALTH_PARTS} parts is not shown. Green ≥ 75, amber ≥ 60, red below.",
                chart("health-chart", _health_chart(scored)),
            ),
            section(
                "parts",
                "What makes up the score",
                "Each part on a 0–100 scale: share of active pairs on track, goal attainment, "
                "satisfaction (1 → 0, 5 → 100) over 90 days, survey response rate over 90 days.",
                chart("parts-chart", _parts_chart(current, ctx)),
            ),
            section(
                "finished",
                "Finished cohorts",
                "Cohorts whose pairs have all ended, with their final figures; they have no "
                "health score (nothing left to act on). How long matches last and why they end "
                'early: <a href="outcomes.html">Outcomes</a>.',
                table(done, _finished_columns(), empty="No finished cohorts yet."),
                wide=True,
            ),
            trend_section(
                trends,
                "trend-health",
                "Health score per month",
                "The health score as of each month end, same definitions.",
                Series("Health score", "health_score_shown"),
                SCORE_AXIS,
            ),
            trend_section(
                trends,
                "trend-active",
                "Active matches per month",
                "Pairs matched and not ended at each month end.",
                Series("Active matches", "active_matches"),
                Axis("active matches", fmt.count, ",.0f"),
            ),
            trend_section(
                trends,
                "trend-meetings",
                "Meetings held per month",
                "Completed meetings dated in each month.",
                Series("Meetings held", "meetings_held"),
                Axis("meetings held", fmt.count, ",.0f"),
            ),
            trend_section(
                trends,
                "trend-on-track",
                "On-track share per month",
                "Share of active pairs on track at each month end (the on-track tile's rule).",
                Series("On-track share", "on_track_share"),
                Axis("on track", fmt.pct, ".0%", (0, 1)),
            ),
        ],
    )


def _with_parts(row: Row) -> Row:
    """The score's parts on a 0–100 scale, from the mart's components."""
    satisfaction = row["satisfaction_mean"]
    return {
        **row,
        "cadence_part": _scaled(row["on_track_share"]),
        "goals_part": _scaled(row["goal_attainment_rate"]),
        "satisfaction_part": None if satisfaction is None else 100 * (satisfaction - 1) / 4,
        "engagement_part": _scaled(row["response_rate_90d"]),
    }


def _scaled(share: float | None) -> float | None:
    return None if share is None else 100 * share


def _health_chart(rows: list[Row]):
    def detail(row: Row, _series: Series) -> str:
        lines = [f"band: {row['health_band']}", f"rests on {row['health_parts']} of 4 parts"]
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
        values_on_bars=True,
        marks=((60, "amber 60"), (75, "green 75")),
    )


def _parts_chart(rows: list[Row], ctx: Context):
    reasons = {column: reason or fmt.fewer_than(ctx.k) for _, column, _, reason in PARTS}
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


def _finished_columns() -> list[Column]:
    return [
        Column("Program", lambda r: fmt.esc(r["program"])),
        Column("Cohort", lambda r: fmt.esc(r["cohort"])),
        Column("Ran", lambda r: f"{fmt.date(r['first_matched_on'])} to {fmt.date(r['last_ended_on'])}"),
        Column("Pairs", lambda r: fmt.count(r["matches_total"]), numeric=True),
        Column("Meetings held", lambda r: fmt.count(r["meetings_held_total"]), numeric=True),
        Column("Meetings / month", lambda r: f"{fmt.decimal(r['lifetime_meetings_per_month'])}"
               f"<small>target {fmt.decimal(r['lifetime_target'])}</small>", numeric=True,
               about="Mean over the cohort's pairs of meetings held per month while matched."),
        Column("Goal attainment", lambda r: fmt.pct(r["goal_attainment_rate"])
               + f"<small>n = {fmt.count(r['attainment_n'])} goals</small>", numeric=True),
        Column("Goal coverage", lambda r: fmt.pct(r["goal_coverage"]), numeric=True),
        Column("Last satisfaction", _last_survey, numeric=True,
               about="Mean satisfaction in the cohort's newest wave with enough respondents."),
    ]  # fmt: skip


def _last_survey(row: Row) -> str:
    if row["satisfaction"] is None:
        return fmt.MISSING
    return f"{row['satisfaction']:.1f} / 5<small>{fmt.esc(row['survey_id'])}</small>"
