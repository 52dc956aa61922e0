"""The index page: each program's health at a glance and a link to every dashboard."""

from __future__ import annotations

from collections.abc import Sequence

from dashboards import fmt
from dashboards.page import Body, Column, Context, section, table
from dashboards.sql import Row, fetch, per_group

TITLE = "Mentor Pulse"
LEDE = "Program health dashboards for program managers. Start with the overview."

SUMMARY_SQL = f"""
WITH risk AS ({per_group("count(*) AS at_risk_pairs", "marts.at_risk_matches")})
SELECT program, health_score, health_band, active_matches, on_track_share,
    coalesce(at_risk_pairs, 0) AS at_risk_pairs
FROM marts.program_health LEFT JOIN risk USING (program, cohort)
WHERE cohort = '(all)'
ORDER BY program
"""


def build(ctx: Context, pages: Sequence[tuple[str, str, str]]) -> Body:
    """`pages` are (file stem, title, one-line description) of the dashboards to link."""
    links = "".join(
        f'<a href="{stem}.html"><strong>{title}</strong><span>{lede}</span></a>'
        for stem, title, lede in pages
    )
    return Body(
        sections=[
            section(
                "programs",
                "Programs at a glance",
                "Health score 0–100 (green ≥ 75, amber ≥ 60, red below); at-risk pairs are "
                "listed with names on the at-risk page.",
                table(fetch(ctx.con, SUMMARY_SQL), _columns(), keys=(), empty="No programs yet."),
                wide=True,
            ),
            section(
                "pages",
                "Dashboards",
                "Each page explains its figures in a line.",
                f'<nav class="links">{links}</nav>',
                wide=True,
            ),  # fmt: skip
        ]
    )


def _health(row: Row) -> str:
    if row["health_score"] is None:
        return '<span class="muted">not enough data</span>'
    return f"{row['health_score']:.0f} {fmt.band_badge(row['health_band'])}"


def _columns() -> list[Column]:
    return [
        Column("Program", lambda r: fmt.esc(r["program"])),
        Column("Health", _health, about="Weighted score of cadence, goals, satisfaction and response."),
        Column("Active matches", lambda r: fmt.count(r["active_matches"]), numeric=True),
        Column("On track", lambda r: fmt.pct(r["on_track_share"]), numeric=True,
               about="Share of active pairs meeting at their target pace."),
        Column("At-risk pairs", lambda r: fmt.count(r["at_risk_pairs"]), numeric=True,
               about="Not started, lapsed or at risk."),
    ]  # fmt: skip
