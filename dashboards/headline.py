"""The catalogue of headline figures: one query and one tile per figure, for every page.

A figure shown on two pages comes from here, so it is the same number with the same words on
both. Each tile carries its change: health, cadence and goal figures against the previous month
end (marts.program_health_by_month, the same definitions evaluated then), survey figures against
the group's previous wave with enough respondents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dashboards import fmt
from dashboards.page import Context, Tile, value_tile
from dashboards.sql import WAVE_DATES, Row, fetch, in_time_order, per_group

# A health score resting on fewer parts than this is not shown (one part is not a health).
MIN_HEALTH_PARTS = 2
HEALTH_PARTS = "on_track_share, goal_attainment_rate, satisfaction_mean, response_rate_90d"

_CADENCE = per_group(
    """count(*) AS matches_total,
    count(*) FILTER (WHERE is_active AND status <> 'too_early') AS on_track_n,
    count(*) FILTER (WHERE is_active AND status = 'too_early') AS too_early_n,
    count(meetings_per_month) FILTER (WHERE is_active) AS meetings_per_month_n,
    min(matched_on) AS first_matched_on,
    max(ended_on) AS last_ended_on,
    sum(meetings_held) AS meetings_held_total,
    avg(meetings_per_month) AS lifetime_meetings_per_month,
    avg(target_per_month) FILTER (WHERE meetings_per_month IS NOT NULL) AS lifetime_target""",
    "marts.match_cadence",
)

# Per group, its waves with enough respondents for satisfaction, newest first (recency 1, 2).
_WAVES = f"""
    SELECT f.program, f.cohort, f.survey_id, w.wave_on, f.mean AS satisfaction,
        f.n_respondents AS satisfaction_n,
        row_number() OVER (
            PARTITION BY f.program, f.cohort ORDER BY w.wave_on DESC NULLS LAST, f.survey_id DESC
        ) AS recency
    FROM marts.feedback_scores AS f LEFT JOIN {WAVE_DATES} AS w USING (survey_id)
    WHERE f.role = '(all)' AND f.item = 'satisfaction' AND NOT f.suppressed"""


def _wave(prefix: str, recency: int) -> str:
    """The survey figures of a group's wave of this recency, columns prefixed `prefix`."""
    return f"""(
        SELECT w.program, w.cohort, w.survey_id AS {prefix}survey_id,
            w.satisfaction AS {prefix}satisfaction, w.satisfaction_n AS {prefix}satisfaction_n,
            n.nps AS {prefix}nps, n.n_respondents AS {prefix}nps_n,
            n.suppressed AS {prefix}nps_suppressed,
            n.nps_ci_low AS {prefix}nps_low, n.nps_ci_high AS {prefix}nps_high,
            r.response_rate AS {prefix}response_rate, r.invitations AS {prefix}invitations,
            r.responses AS {prefix}responses
        FROM ({_WAVES}) AS w
        LEFT JOIN marts.nps AS n
            ON n.program = w.program AND n.cohort = w.cohort AND n.survey_id = w.survey_id
            AND n.role = '(all)'
        LEFT JOIN marts.survey_response_rates AS r
            ON r.program = w.program AND r.cohort = w.cohort AND r.survey_id = w.survey_id
            AND r.role = '(all)'
        WHERE w.recency = {recency})"""


# One row per (program, cohort) of program_health, in time order.
HEADLINE_SQL = in_time_order(f"""
WITH previous AS (
    -- The last month end before D, evaluated with the same definitions.
    SELECT * FROM marts.program_health_by_month
    WHERE month_end < CAST($as_of AS DATE)
    QUALIFY row_number() OVER (PARTITION BY program, cohort ORDER BY month_end DESC) = 1
),
current AS (
    SELECT * FROM marts.program_health_by_month WHERE evaluated_on = CAST($as_of AS DATE)
),
suppressed_waves AS (
    SELECT program, cohort, bool_or(suppressed) AS any_wave_suppressed
    FROM marts.feedback_scores WHERE role = '(all)' AND item = 'satisfaction'
    GROUP BY program, cohort
)
SELECT
    ph.*,
    ({" + ".join(f"(ph.{part} IS NOT NULL)::INTEGER" for part in HEALTH_PARTS.split(", "))})
        AS health_parts,
    ph.cohort <> '(all)' AND ph.active_matches = 0 AS is_finished,
    cad.* EXCLUDE (program, cohort),
    cur.meetings_per_month, cur.target_per_month, cur.pairs_needing_attention,
    ga.goals_set, ga.goals_open, ga.goals_overdue, ga.goals_achieved,
    ga.attainment_ci_low, ga.attainment_ci_high,
    ga.goals_achieved + ga.goals_abandoned + ga.goals_overdue AS attainment_n,
    prev.month_end AS prev_month_end,
    prev.health_score AS prev_health_score, prev.health_parts AS prev_health_parts,
    prev.active_matches AS prev_active_matches, prev.on_track_share AS prev_on_track_share,
    prev.meetings_per_month AS prev_meetings_per_month,
    prev.pairs_needing_attention AS prev_pairs_needing_attention,
    prev.goal_attainment_rate AS prev_goal_attainment_rate,
    prev.goals_overdue AS prev_goals_overdue, prev.goal_coverage AS prev_goal_coverage,
    coalesce(sw.any_wave_suppressed, false) AS any_wave_suppressed,
    wave.* EXCLUDE (program, cohort),
    before.* EXCLUDE (program, cohort)
FROM marts.program_health AS ph
LEFT JOIN ({_CADENCE}) AS cad USING (program, cohort)
LEFT JOIN current AS cur USING (program, cohort)
LEFT JOIN previous AS prev USING (program, cohort)
LEFT JOIN marts.goal_attainment AS ga
    ON ga.program = ph.program AND ga.cohort = ph.cohort AND ga.horizon = '(all)'
LEFT JOIN suppressed_waves AS sw USING (program, cohort)
LEFT JOIN {_wave("", 1)} AS wave USING (program, cohort)
LEFT JOIN {_wave("prev_", 2)} AS before USING (program, cohort)
""")


def headline_rows(ctx: Context) -> list[Row]:
    return fetch(ctx.con, HEADLINE_SQL, as_of=ctx.as_of)


def live(rows: Sequence[Row]) -> list[Row]:
    """Program rollups and cohorts with an active pair."""
    return [row for row in rows if not row["is_finished"]]


def finished(rows: Sequence[Row]) -> list[Row]:
    """Cohorts whose pairs have all ended."""
    return [row for row in rows if row["is_finished"]]


def is_scored(row: Row, prefix: str = "") -> bool:
    return (
        row[f"{prefix}health_score"] is not None
        and (row[f"{prefix}health_parts"] or 0) >= MIN_HEALTH_PARTS
    )


def health_text(row: Row) -> str:
    """The score with its band, or why there is none; always says how many parts it rests on."""
    if not is_scored(row):
        return "not scored"
    return f"{row['health_score']:.0f} {fmt.band_badge(row['health_band'])}"


def _since(row: Row) -> str:
    return fmt.month_end(row["prev_month_end"])


def _monthly_change(row: Row, column: str, delta, higher_is_better: bool | None = True) -> str:
    if row["prev_month_end"] is None:
        return '<div class="change none">first month: nothing to compare</div>'
    return fmt.change(
        row[column], row[f"prev_{column}"], delta, since=_since(row),
        higher_is_better=higher_is_better,
    )  # fmt: skip


def _wave_change(row: Row, column: str, delta) -> str:
    if row["survey_id"] is None:
        return ""
    if row["prev_survey_id"] is None:
        return '<div class="change none">no earlier wave with enough respondents</div>'
    return fmt.change(
        row[column], row[f"prev_{column}"], delta, since=fmt.esc(row["prev_survey_id"])
    )


def _health(row: Row, ctx: Context) -> Tile:
    parts = row["health_parts"]
    scored = is_scored(row)
    previous = row["prev_health_score"] if is_scored(row, "prev_") else None
    change = (
        fmt.change(row["health_score"], previous, fmt.signed_decimal, since=_since(row))
        if scored and row["prev_month_end"] is not None
        else ""
    )
    return Tile(
        "Health score",
        health_text(row),
        f"rests on {parts} of 4 parts" + ("" if scored else f" (needs {MIN_HEALTH_PARTS})"),
        "0–100: on track 35%, goals 25%, satisfaction 25%, response 15%. "
        "Green ≥ 75, amber ≥ 60, red below.",
        muted=not scored,
        change=change,
        figure="health",
    )


def _active(row: Row, ctx: Context) -> Tile:
    return Tile(
        "Active matches",
        fmt.count(row["active_matches"]),
        f"of n = {fmt.count(row['matches_total'])} matches so far",
        "Pairs matched by the as-of date and not ended.",
        change=_monthly_change(row, "active_matches", fmt.signed_count, None),
        figure="active",
    )


def on_track_about(ctx: Context) -> str:
    lapse = ctx.run["lapse_days"]
    lapse_text = f"in the last {lapse} days" if lapse else "recently"
    return (
        f"Active pairs past their first {ctx.run['first_meeting_grace_days'] or 'few'} days that "
        f"met {lapse_text} and within twice their target interval (not the target pace)."
    )


def _on_track(row: Row, ctx: Context) -> Tile:
    # Beside the pace against target: "on track" is not "meeting at the target pace".
    pace = (
        f" · meeting {fmt.decimal(row['meetings_per_month'])} a month vs target "
        f"{fmt.decimal(row['target_per_month'])}"
        if row.get("meetings_per_month") is not None and row.get("target_per_month")
        else ""
    )
    return value_tile(
        "On track",
        row["on_track_share"],
        fmt.pct,
        f"n = {fmt.count(row['on_track_n'])} active pairs past their first weeks{pace}",
        on_track_about(ctx),
        missing="no active pairs",
        change=_monthly_change(row, "on_track_share", fmt.points),
        figure="on_track",
    )


def _meetings(row: Row, ctx: Context) -> Tile:
    return value_tile(
        "Meetings per month",
        row["meetings_per_month"],
        fmt.decimal,
        f"target {fmt.decimal(row['target_per_month'])} · "
        f"n = {fmt.count(row['meetings_per_month_n'])} active pairs",
        "Mean meetings held per month by active pairs matched 14+ days, against their target.",
        missing="no active pairs",
        change=_monthly_change(row, "meetings_per_month", fmt.signed_decimal),
        figure="meetings_per_month",
    )


def _attention(row: Row, ctx: Context) -> Tile:
    return Tile(
        "Pairs needing attention",
        fmt.count(row["pairs_needing_attention"]),
        f"of n = {fmt.count(row['active_matches'])} active pairs",
        f"Not started, lapsed (no meeting for over {ctx.run['lapse_days'] or '—'} days) or at "
        "risk; listed with names on the restricted at-risk page.",
        change=_monthly_change(row, "pairs_needing_attention", fmt.signed_count, False),
        figure="attention",
    )


def _attainment(row: Row, ctx: Context) -> Tile:
    return value_tile(
        "Goal attainment",
        row["goal_attainment_rate"],
        fmt.pct,
        f"n = {fmt.count(row['attainment_n'])} goals achieved, abandoned or overdue",
        "Achieved ÷ (achieved + abandoned + overdue)."
        + fmt.interval_sentence(row["attainment_ci_low"], row["attainment_ci_high"], fmt.pct),
        missing="no goals resolved yet",
        change=_monthly_change(row, "goal_attainment_rate", fmt.points),
        figure="attainment",
    )


def _overdue(row: Row, ctx: Context) -> Tile:
    return Tile(
        "Overdue goals",
        fmt.count(row["goals_overdue"] or 0),
        f"of n = {fmt.count(row['goals_open'] or 0)} open goals",
        "Open goals past their target date (the pairs are on the restricted at-risk page).",
        change=_monthly_change(row, "goals_overdue", fmt.signed_count, False),
        figure="overdue",
    )


def _coverage(row: Row, ctx: Context) -> Tile:
    return value_tile(
        "Goal coverage",
        row["goal_coverage"],
        fmt.pct,
        "pairs matched 30+ days ago",
        "Pairs with a goal set in their first 30 days.",
        missing="no pair matched 30+ days ago",
        change=_monthly_change(row, "goal_coverage", fmt.points),
        figure="coverage",
    )


def _no_wave(row: Row, ctx: Context) -> str:
    return fmt.fewer_than(ctx.k) if row["any_wave_suppressed"] else "no responses yet"


def _satisfaction(row: Row, ctx: Context) -> Tile:
    return value_tile(
        "Satisfaction",
        row["satisfaction"],
        lambda mean: f"{mean:.1f} / 5",
        f"n = {fmt.count(row['satisfaction_n'])} respondents · {fmt.esc(row['survey_id'])}",
        "Mean overall satisfaction (1–5) in the newest wave with enough respondents.",
        missing=_no_wave(row, ctx),
        change=_wave_change(row, "satisfaction", fmt.signed_decimal),
        figure="satisfaction",
    )


def _nps(row: Row, ctx: Context) -> Tile:
    missing = _no_wave(row, ctx) if row["survey_id"] is None else fmt.fewer_than(ctx.k)
    return value_tile(
        "NPS",
        row["nps"],
        fmt.signed,
        f"n = {fmt.count(row['nps_n'])} respondents · {fmt.esc(row['survey_id'])}",
        "% promoters (9–10) minus % detractors (0–6), same wave as satisfaction."
        + fmt.interval_sentence(row["nps_low"], row["nps_high"], fmt.signed),
        missing=missing,
        change=_wave_change(row, "nps", fmt.signed_count),
        figure="nps",
    )


def _response(row: Row, ctx: Context) -> Tile:
    return value_tile(
        "Response rate",
        row["response_rate"],
        fmt.pct,
        f"{fmt.count(row['responses'])} of n = {fmt.count(row['invitations'])} invitations · "
        f"{fmt.esc(row['survey_id'])}",
        "Share of that wave's invitations answered.",
        missing=_no_wave(row, ctx),
        change=_wave_change(row, "response_rate", fmt.points),
        figure="response",
    )


TILES: dict[str, Callable[[Row, Context], Tile]] = {
    "health": _health,
    "active": _active,
    "on_track": _on_track,
    "meetings_per_month": _meetings,
    "attention": _attention,
    "attainment": _attainment,
    "overdue": _overdue,
    "coverage": _coverage,
    "satisfaction": _satisfaction,
    "nps": _nps,
    "response": _response,
}


def make_tiles(ctx: Context, names: Sequence[str]) -> Callable[[Row], list[Tile]]:
    """The tiles `names` (keys of TILES) for one headline row."""
    return lambda row: [TILES[name](row, ctx) for name in names]
