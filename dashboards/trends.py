"""Monthly trend charts from marts.program_health_by_month, shared by the pages with history.

The month of D is drawn too, as an open marker labelled "partial": its figures run to D only.
"""

from __future__ import annotations

from collections.abc import Sequence

from dashboards.figures import Axis, Series, trend_chart
from dashboards.headline import MIN_HEALTH_PARTS
from dashboards.page import Context, chart, section
from dashboards.sql import Row, fetch, in_time_order

TRENDS_SQL = in_time_order(
    f"""SELECT *, CASE WHEN health_parts >= {MIN_HEALTH_PARTS} THEN health_score END
            AS health_score_shown
        FROM marts.program_health_by_month""",
    then="month_end",
)


def trend_rows(ctx: Context) -> list[Row]:
    return fetch(ctx.con, TRENDS_SQL)


def trend_section(
    rows: Sequence[Row],
    section_id: str,
    title: str,
    explain: str,
    series: Series,
    axis: Axis,
) -> str:
    explain += (
        " One line per program (all cohorts) unless you pick a cohort; the open dot is the "
        "current month so far."
    )
    return section(
        section_id, title, explain, chart(f"{section_id}-chart", trend_chart(rows, [series], axis))
    )
