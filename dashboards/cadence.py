"""Cadence: are pairs meeting? Status per cohort, pace against target, gaps, cancellations."""

from __future__ import annotations

from dashboards import fmt
from dashboards.figures import INK, PALETTE, Axis, Series, category_chart
from dashboards.headline import headline_rows, live, make_tiles, on_track_about
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
from dashboards.sql import ALL, Row, fetch, per_group

TITLE = "Cadence"
LEDE = "Are pairs meeting as often as planned, and which cohorts are slipping?"

TILES = ["active", "on_track", "meetings_per_month", "attention"]
# (status, label, colour), good to bad: the statuses of active pairs past their first weeks,
# the base of the mart's on_track_share, so the green bar is the on-track tile's figure.
STATUSES = [
    ("on_track", "On track", "#16a34a"),
    ("at_risk", "At risk", "#f59e0b"),
    ("lapsed", "Lapsed", "#dc2626"),
    ("not_started", "Not started", "#6b7280"),
]
# Active pairs by days since their last held meeting: (column, label, colour, condition).
SINCE_BUCKETS = [
    ("since_0_30", "≤ 30 days", "#16a34a", "days_since_last_meeting <= 30"),
    ("since_31_60", "31–60 days", "#a3c94a", "days_since_last_meeting BETWEEN 31 AND 60"),
    ("since_61_90", "61–90 days", "#f59e0b", "days_since_last_meeting BETWEEN 61 AND 90"),
    ("since_over_90", "over 90 days", "#dc2626", "days_since_last_meeting > 90"),
    ("since_never", "no meeting yet", "#9ca3af", "last_meeting_on IS NULL"),
]

_MEASURES = ",\n".join(
    [
        "count(*) AS matches",
        "count(*) FILTER (WHERE is_active) AS active",
        "count(*) FILTER (WHERE is_active AND status <> 'too_early') AS judged",
        "count(*) FILTER (WHERE status = 'too_early') AS too_early",
        "count(*) FILTER (WHERE status = 'ended') AS ended",
        *(
            f"count(*) FILTER (WHERE status = '{s}') "
            f"/ nullif(count(*) FILTER (WHERE is_active AND status <> 'too_early'), 0) AS {s}_share"
            for s, _, _ in STATUSES
        ),
        *(f"count(*) FILTER (WHERE status = '{s}') AS {s}" for s, _, _ in STATUSES),
        *(
            f"count(*) FILTER (WHERE is_active AND {condition}) / "
            f"nullif(count(*) FILTER (WHERE is_active), 0) AS {column}_share"
            for column, _, _, condition in SINCE_BUCKETS
        ),
        *(
            f"count(*) FILTER (WHERE is_active AND {condition}) AS {column}"
            for column, _, _, condition in SINCE_BUCKETS
        ),
        "avg(meetings_per_month) FILTER (WHERE is_active) AS meetings_per_month",
        "count(meetings_per_month) FILTER (WHERE is_active) AS meetings_per_month_n",
        "avg(target_per_month) FILTER (WHERE is_active AND meetings_per_month IS NOT NULL)"
        " AS target_per_month",
        "median(days_since_last_meeting) FILTER (WHERE is_active) AS days_since_median",
        "count(days_since_last_meeting) FILTER (WHERE is_active) AS days_since_n",
        "quantile_cont(days_to_first_meeting, 0.25) AS first_q1",
        "median(days_to_first_meeting) AS first_median",
        "quantile_cont(days_to_first_meeting, 0.75) AS first_q3",
        "count(days_to_first_meeting) AS first_n",
        "sum(meetings_cancelled) / nullif(sum(meetings_held + meetings_cancelled + meetings_no_show), 0)"
        " AS cancellation_rate",
        "sum(meetings_held + meetings_cancelled + meetings_no_show) AS cancellation_n",
        "sum(meetings_no_show) / nullif(sum(meetings_held + meetings_no_show), 0) AS no_show_rate",
        "sum(meetings_held + meetings_no_show) AS no_show_n",
    ]
)
CADENCE_SQL = per_group(_MEASURES, "marts.match_cadence")

SHARE_AXIS = Axis("share of pairs", fmt.pct, ".0%", (0, 1))


def build(ctx: Context) -> Body:
    # Finished cohorts (every pair ended) have no cadence to act on: the overview lists them.
    rows = [row for row in fetch(ctx.con, CADENCE_SQL) if row["active"] or row["cohort"] == ALL]
    lapse = ctx.run["lapse_days"]
    return Body(
        filters=group_filters(ctx),
        sections=[
            key_figures(tile_groups(live(headline_rows(ctx)), make_tiles(ctx, TILES))),
            section(
                "details",
                "Meeting details",
                "Figures as of the as-of date (no monthly history yet), per program and cohort.",
                tile_groups(rows, _tiles),
                wide=True,
            ),
            section(
                "status",
                "Status of active pairs by cohort",
                f"{on_track_about(ctx)} At risk: gap over twice the target interval. Lapsed: no "
                f"meeting for over {lapse} days. Not started: no meeting yet. Pairs in their first "
                f"{ctx.run['first_meeting_grace_days']} days and ended pairs are left out "
                "(counts in the hover).",
                chart(
                    "status-chart",
                    _share_chart(rows, [(s, label, c) for s, label, c in STATUSES], "judged"),
                ),
            ),
            section(
                "pace",
                "Meetings per month against target",
                "Bars: mean meetings held per month of active pairs (matched 14+ days). "
                "Black tick: their mean target.",
                chart("pace-chart", _pace_chart(rows)),
            ),
            section(
                "since",
                "Days since last meeting",
                "Active pairs by time since their last held meeting, counted to the as-of date.",
                chart(
                    "since-chart",
                    _share_chart(
                        rows, [(c, label, color) for c, label, color, _ in SINCE_BUCKETS], "active"
                    ),
                ),
            ),
            section(
                "first-meeting",
                "Time to first meeting",
                "Median days from matching to the first held meeting; the whisker spans the "
                "middle half of pairs (25th–75th percentile).",
                chart("first-meeting-chart", _first_meeting_chart(rows)),
            ),
            section(
                "cancellations",
                "Cancellation and no-show rates",
                "Cancelled ÷ all meetings with an outcome; no-shows ÷ (held + no-shows).",
                chart("cancellations-chart", _cancellation_chart(rows)),
            ),
        ],
    )


def _tiles(row: Row) -> list[Tile]:
    return [
        value_tile(
            "Since last meeting",
            row["days_since_median"],
            fmt.days,
            f"median · n = {fmt.count(row['days_since_n'])} active pairs that met",
            "Days from the last held meeting to the as-of date.",
            missing="no meetings yet",
        ),
        value_tile(
            "To first meeting",
            row["first_median"],
            fmt.days,
            f"median · n = {fmt.count(row['first_n'])} pairs that met",
            "Days from matching to the first held meeting.",
            missing="no meetings yet",
        ),
        value_tile(
            "Cancellations",
            row["cancellation_rate"],
            fmt.pct,
            f"n = {fmt.count(row['cancellation_n'])} meetings",
            "Share of meetings cancelled.",
            missing="no meetings yet",
        ),
        value_tile(
            "No-shows",
            row["no_show_rate"],
            fmt.pct,
            f"n = {fmt.count(row['no_show_n'])} meetings due",
            "Share of due meetings where someone did not show.",
            missing="no meetings yet",
        ),
    ]


def _share_chart(rows: list[Row], parts: list[tuple[str, str, str]], total: str):
    """Stacked shares per cohort; `parts` are (count column, label, colour), `total` the base."""

    def detail(row: Row, series: Series) -> str:
        text = (
            f"<br>{fmt.count(row[series.value.removesuffix('_share')])} "
            f"of {fmt.count(row[total])} pairs"
        )
        if total == "judged":
            text += (
                f"<br>left out: {fmt.count(row['too_early'])} in their first weeks, "
                f"{fmt.count(row['ended'])} ended"
            )
        return text

    return category_chart(
        rows,
        [Series(label, f"{column}_share", color) for column, label, color in parts],
        SHARE_AXIS,
        barmode="stack",
        detail=detail,
        note=lambda row, _s: "no active pairs past their first weeks" if not row[total] else None,
    )


def _pace_chart(rows: list[Row]):
    return category_chart(
        rows,
        [
            Series("Meetings per month", "meetings_per_month", PALETTE[0]),
            Series("Target", "target_per_month", INK, kind="tick"),
        ],
        Axis("meetings per month", fmt.decimal, ".1f"),
        detail=lambda row, _s: f"<br>n = {fmt.count(row['meetings_per_month_n'])} active pairs",
        note=lambda _row, series: "no pair active 14+ days" if series.kind == "bar" else None,
    )


def _first_meeting_chart(rows: list[Row]):
    return category_chart(
        rows,
        [
            Series(
                "Days to first meeting",
                "first_median",
                PALETTE[1],
                kind="dot",
                low="first_q1",
                high="first_q3",
                interval_name="middle half",
            )
        ],  # fmt: skip
        Axis("days (median)", fmt.days, ",.0f"),
        detail=lambda row, _s: f"<br>n = {fmt.count(row['first_n'])} pairs that met",
        note=lambda _row, _s: "no meetings yet",
    )


def _cancellation_chart(rows: list[Row]):
    bases = {"cancellation_rate": "cancellation_n", "no_show_rate": "no_show_n"}
    return category_chart(
        rows,
        [
            Series("Cancellation rate", "cancellation_rate", PALETTE[3]),
            Series("No-show rate", "no_show_rate", PALETTE[2]),
        ],
        Axis("share of meetings", fmt.pct, ".0%"),
        detail=lambda row, series: f"<br>n = {fmt.count(row[bases[series.value]])} meetings",
        values_on_bars=True,
    )
