"""Monthly trend charts from marts.monthly_trends, shared by the pages that show history."""

from __future__ import annotations

from collections.abc import Sequence

from dashboards.figures import Axis, Series, trend_chart
from dashboards.page import Context, chart, section
from dashboards.sql import GROUP_ORDER, Row, fetch


def trend_rows(ctx: Context) -> list[Row]:
    return fetch(ctx.con, f"SELECT * FROM marts.monthly_trends ORDER BY {GROUP_ORDER}, month_end")


def trend_section(
    rows: Sequence[Row],
    section_id: str,
    title: str,
    explain: str,
    series: Sequence[Series],
    axis: Axis,
) -> str:
    explain += " One line per program (all cohorts) unless you pick a cohort."
    return section(
        section_id, title, explain, chart(f"{section_id}-chart", trend_chart(rows, series, axis))
    )
