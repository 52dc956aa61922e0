"""Formatting for tiles, tables, hover text and labels.

Every function returns HTML-safe text: data strings are escaped here, so the rest of the package
can place the result in HTML or in Plotly labels (which Plotly parses as HTML-like text).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any

from dashboards.sql import ALL

MISSING = "—"


def esc(value: Any) -> str:
    """Escape a data string for HTML text, attributes and Plotly labels."""
    return MISSING if value is None else html.escape(str(value))


def count(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.0f}"


def pct(value: float | None) -> str:
    return MISSING if value is None else f"{100 * value:.0f}%"


def percent_points(value: float | None) -> str:
    """A value already on a 0–100 scale, e.g. progress_pct."""
    return MISSING if value is None else f"{value:.0f}%"


def decimal(value: float | None) -> str:
    return MISSING if value is None else f"{value:.1f}"


def signed(value: float | None) -> str:
    return MISSING if value is None else f"{value:+.0f}"


def days(value: float | None) -> str:
    return MISSING if value is None else f"{value:,.0f} day{'' if round(value) == 1 else 's'}"


def interval(low: float | None, high: float | None, form: Any) -> str:
    """'low to high' with the value formatter `form`, or '' when the interval is unknown."""
    return "" if low is None or high is None else f"{form(low)} to {form(high)}"


def interval_sentence(low: float | None, high: float | None, form: Any) -> str:
    """' 95% interval: low to high.' for a tile's explanation, or '' when there is none."""
    text = interval(low, high, form)
    return f" 95% interval: {text}." if text else ""


def date(value: dt.date | None) -> str:
    return MISSING if value is None else value.isoformat()


def timestamp(value: dt.datetime | None) -> str:
    if value is None:
        return MISSING
    zone = value.strftime("%Z")
    return value.strftime("%Y-%m-%d %H:%M") + (f" {zone}" if zone else "")


def fewer_than(min_group_size: int) -> str:
    """The text shown instead of a suppressed survey figure."""
    return f"fewer than {min_group_size} responses"


def cohort_name(cohort: str) -> str:
    return "All cohorts" if cohort == ALL else esc(cohort)


def group_label(row: dict[str, Any]) -> str:
    """'Program · Cohort' for a row with program and cohort ('(all)' reads 'All cohorts')."""
    return f"{esc(row['program'])} · {cohort_name(row['cohort'])}"


def group_label_stacked(row: dict[str, Any]) -> str:
    """The program (small, grey) over the cohort: a chart label half as wide, for phones."""
    return (
        f'<span style="font-size:11px;color:#5f6b7a">{esc(row["program"])}</span><br>'
        f"{cohort_name(row['cohort'])}"
    )


def missing_survey_figure(suppressed: bool | None, min_group_size: int) -> str:
    """Words for a survey figure that has no value: suppressed, or no answers at all."""
    return fewer_than(min_group_size) if suppressed else "no responses yet"


def band_badge(band: str | None) -> str:
    """The health band as a coloured pill ('green', 'amber' or 'red')."""
    return f'<span class="badge {esc(band)}">{esc(band)}</span>'


ARROWS = {"up": "▲", "down": "▼", "flat": "="}


def change(
    current: float | None,
    previous: float | None,
    delta: Callable[[float], str],
    *,
    since: str,
    higher_is_better: bool | None = True,
) -> str:
    """The change of a headline figure as a small line: arrow, signed difference, since when.

    `delta` formats the difference (e.g. "+3 pts"); a difference that formats as zero is "no
    change". The class says better, worse or neutral (None: neither direction is better).
    """
    if current is None or previous is None:
        return f'<div class="change none">no figure for {since} to compare</div>'
    text = delta(current - previous)
    direction = (
        "flat"
        if not any(c.isdigit() and c != "0" for c in text)
        else ("up" if current > previous else "down")
    )
    if direction == "flat":
        verdict, text = "same", "no change"
    elif higher_is_better is None:
        verdict = "neutral"
    else:
        verdict = "better" if (direction == "up") == higher_is_better else "worse"
    words = {"better": "better", "worse": "worse", "same": "same", "neutral": "change"}[verdict]
    return (
        f'<div class="change {verdict}" data-direction="{direction}" title="{words} than {since}">'
        f'<span aria-hidden="true">{ARROWS[direction]}</span> {text} '
        f'<span class="since">since {since}</span></div>'
    )


def points(value: float) -> str:
    """A difference of two shares in percentage points."""
    return f"{100 * value:+.0f} pts"


def signed_decimal(value: float) -> str:
    return f"{value:+.1f}"


def signed_count(value: float) -> str:
    return f"{value:+,.0f}"


def month_end(value: dt.date | None) -> str:
    """'31 Oct 2026' for the month end a change is measured against."""
    return MISSING if value is None else f"{value.day} {value:%b %Y}"
