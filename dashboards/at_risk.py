"""At-risk pairs: who to contact. The only page with names (from restricted.participant_identity)."""

from __future__ import annotations

from dashboards import fmt
from dashboards.page import Body, Column, Context, Tile, group_filters, section, table, tile_groups
from dashboards.sql import Row, fetch, per_group

TITLE = "At-risk pairs"
LEDE = "Pairs that have not started, lapsed or fallen behind — with names, so you can reach out."

LIST_LIMIT = 500
STATUS_NAMES = {"not_started": "Not started", "lapsed": "Lapsed", "at_risk": "At risk"}

COUNTS_SQL = per_group(
    ", ".join(
        [
            "count(*) FILTER (WHERE is_active) AS active",
            *(
                f"count(*) FILTER (WHERE status = '{status}') AS {status}"
                for status in STATUS_NAMES
            ),
        ]
    ),
    "marts.match_cadence",
)

# Worst first: longest without a meeting (pairs that never met count from their match date).
LIST_SQL = f"""
SELECT a.*,
    coalesce(a.days_since_last_meeting, a.active_days) AS days_without_meeting,
    mentor.full_name AS mentor_name, mentor.email AS mentor_email,
    mentee.full_name AS mentee_name, mentee.email AS mentee_email,
    count(*) OVER () AS total
FROM marts.at_risk_matches a
LEFT JOIN restricted.participant_identity mentor ON mentor.participant_key = a.mentor_key
LEFT JOIN restricted.participant_identity mentee ON mentee.participant_key = a.mentee_key
ORDER BY days_without_meeting DESC NULLS LAST, a.match_id
LIMIT {LIST_LIMIT}
"""


def build(ctx: Context) -> Body:
    counts = fetch(ctx.con, COUNTS_SQL)
    pairs = fetch(ctx.con, LIST_SQL)
    total = pairs[0]["total"] if pairs else 0
    shown = (
        f"Showing the {LIST_LIMIT} pairs longest without a meeting, of {fmt.count(total)}."
        if total > LIST_LIMIT
        else f"All {fmt.count(total)} pairs, longest without a meeting first."
    )
    return Body(
        filters=group_filters(ctx),
        sections=[
            section(
                "kpis",
                "Pairs needing attention",
                "Pick a program and cohort above; “All cohorts” shows the program as a whole.",
                tile_groups(counts, _tiles),
                wide=True,
            ),
            section(
                "pairs",
                "Pairs to contact",
                f"{shown} Click a column heading to sort. Contains personal data: "
                "do not forward or export.",
                table(pairs, _columns(), sortable=True, empty="No pairs at risk — nice."),
                wide=True,
            ),
        ],
    )


def _tiles(row: Row) -> list[Tile]:
    about = {
        "not_started": "Matched past the grace period, no meeting held yet.",
        "lapsed": "No meeting for more than 60 days.",
        "at_risk": "Gap since last meeting over twice the target interval.",
    }
    return [
        Tile(
            "Needing attention",
            fmt.count(sum(row[status] for status in STATUS_NAMES)),
            f"of n = {fmt.count(row['active'])} active pairs",
            "Not started, lapsed or at risk.",
        ),
        *(
            Tile(
                name,
                fmt.count(row[status]),
                f"of n = {fmt.count(row['active'])} active pairs",
                about[status],
            )
            for status, name in STATUS_NAMES.items()
        ),
    ]


def _person(name_key: str, email_key: str):
    def cell(row: Row) -> str:
        email = row[email_key]
        return fmt.esc(row[name_key]) + (f"<small>{fmt.esc(email)}</small>" if email else "")

    return cell


def _columns() -> list[Column]:
    return [
        Column("Program", lambda r: fmt.esc(r["program"]), lambda r: r["program"]),
        Column("Cohort", lambda r: fmt.esc(r["cohort"]), lambda r: r["cohort"]),
        Column("Mentor", _person("mentor_name", "mentor_email"), lambda r: r["mentor_name"]),
        Column("Mentee", _person("mentee_name", "mentee_email"), lambda r: r["mentee_name"]),
        Column(
            "Status",
            lambda r: STATUS_NAMES.get(r["status"], fmt.esc(r["status"])),
            lambda r: r["status"],
        ),
        Column("Reason", lambda r: fmt.esc(r["reason"]), lambda r: r["reason"]),
        Column(
            "Days without meeting",
            lambda r: fmt.count(r["days_without_meeting"]),
            lambda r: r["days_without_meeting"],
            numeric=True,
            about="Days since the last held meeting, or since matching if the pair never met.",
        ),
        Column(
            "Last meeting",
            lambda r: fmt.date(r["last_meeting_on"]) if r["last_meeting_on"] else "never",
            lambda r: fmt.date(r["last_meeting_on"]) if r["last_meeting_on"] else None,
        ),
        Column(
            "Meetings held",
            lambda r: fmt.count(r["meetings_held"]),
            lambda r: r["meetings_held"],
            numeric=True,
        ),
        Column(
            "Target / month",
            lambda r: fmt.decimal(r["target_per_month"]),
            lambda r: r["target_per_month"],
            numeric=True,
        ),
        Column(
            "Matched on", lambda r: fmt.date(r["matched_on"]), lambda r: fmt.date(r["matched_on"])
        ),
        Column("Match", lambda r: fmt.esc(r["match_id"]), lambda r: r["match_id"]),
    ]
