"""The index page: each program's headline figures with their change, and a link to every
dashboard. It draws no chart, so it loads no plotly.js."""

from __future__ import annotations

from collections.abc import Sequence

from dashboards import fmt
from dashboards.access import RESTRICTED, program_slug
from dashboards.headline import headline_rows, make_tiles
from dashboards.page import Body, Context, section, tile_groups
from dashboards.sql import ALL

TITLE = "Mentor Pulse"
LEDE = "Program health dashboards for program managers. Start with the overview."

TILES = ["health", "active", "on_track", "attention", "attainment", "satisfaction"]


def build(
    ctx: Context, pages: Sequence[tuple[str, str, str]], programs: Sequence[str] = ()
) -> Body:
    """`pages` are (file stem, title, one-line description) of the dashboards to link;
    `programs` get a link to their restricted pages (which need a sign-in when served)."""
    links = "".join(
        f'<a href="{stem}.html"><strong>{title}</strong><span>{lede}</span></a>'
        for stem, title, lede in pages
    )
    rows = [row for row in headline_rows(ctx) if row["cohort"] == ALL]
    return Body(
        sections=[
            section(
                "programs",
                "Programs at a glance",
                "The same figures as on the overview, with their change since the last month "
                "end (satisfaction: since the previous wave). Pairs needing attention are listed "
                "with names on the restricted at-risk page.",
                tile_groups(rows, make_tiles(ctx, TILES)),
                wide=True,
            ),
            section(
                "pages",
                "Dashboards",
                "Each page explains its figures in a line.",
                f'<nav class="links">{links}</nav>',
                wide=True,
            ),  # fmt: skip
            *([_managers(programs)] if programs else []),
        ]
    )


def _managers(programs: Sequence[str]) -> str:
    links = "".join(
        f'<a href="{RESTRICTED}/{program_slug(p)}/at_risk.html"><strong>{fmt.esc(p)}</strong>'
        f'<span>Who to contact, comments and the <span class="nowrap">digest</span></span></a>'
        for p in programs
    )
    return section(
        "managers",
        "For program managers",
        "Each program's restricted pages: names and e-mails, so they need a sign-in and show "
        "only the programs you manage.",
        f'<nav class="links">{links}</nav>',
        wide=True,
    )
