"""Plotly figures built from aggregated rows, one function per chart shape.

Labels and hover texts come from `dashboards.fmt` and are escaped already. Hover templates hold
only our own words; data reaches them as %{y} / %{customdata} values, which Plotly does not
parse as templates again, so a data string never acts as a template either.

Traces tell the page's filter script which program/cohort they show:
- meta "rows": a chart comparing groups; the figure's layout.meta.keys holds one key per row,
  shared by its traces, and the filter drops the points of other groups.
- meta {"rule": "series", "keys": ...}: a trend line of one group; the filter hides it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from dashboards.fmt import group_label, group_label_stacked
from dashboards.sql import Row

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#1f2933"
MUTED = "#5f6b7a"
GRID = "#e5e9f0"
PALETTE = ["#2563eb", "#0d9488", "#9333ea", "#ea580c", "#64748b", "#db2777", "#65a30d", "#0891b2"]
DASHES = ["solid", "dot", "dash", "dashdot"]
GROUP_KEYS = ("program", "cohort")


@dataclass(frozen=True)
class Series:
    """One measure drawn for every row: a column, its legend name and how it looks."""

    name: str
    value: str
    color: str | Callable[[Row], str] = PALETTE[0]
    kind: str = "bar"  # "bar", "dot" (with an interval when low/high are set) or "tick"
    low: str | None = None
    high: str | None = None
    interval_name: str = "95% interval"


@dataclass(frozen=True)
class Axis:
    title: str
    fmt: Callable[[Any], str]
    tickformat: str = ""
    range: tuple[float, float] | None = None


def no_detail(row: Row, series: Series) -> str:
    return ""


def no_note(row: Row, series: Series) -> str | None:
    return None


def category_chart(
    rows: Sequence[Row],
    series: Sequence[Series],
    axis: Axis,
    *,
    barmode: str = "group",
    label: Callable[[Row], str] = group_label_stacked,
    keys: Sequence[str] = GROUP_KEYS,
    detail: Callable[[Row, Series], str] = no_detail,
    note: Callable[[Row, Series], str | None] = no_note,
    values_on_bars: bool = False,
    marks: Sequence[tuple[float, str]] = (),
) -> go.Figure | None:
    """Horizontal chart with one category per row (e.g. per cohort) and one trace per series.

    `detail` adds hover lines (such as n); `note` gives the reason a value is missing (e.g.
    "fewer than 5 responses"), written under the category's label, so a suppressed figure is
    never just a blank and the words never cover a bar.
    """
    if not rows:
        return None
    labels = [label(row) + _notes(row, series, note) for row in rows]
    fig = go.Figure()
    for one in series:
        fig.add_trace(_category_trace(rows, labels, one, axis, detail, values_on_bars, bool(keys)))
    for index, (value, text) in enumerate(marks):
        fig.add_vline(x=value, line={"color": MUTED, "dash": "dot", "width": 1})
        fig.add_annotation(
            x=value, y=1, yref="paper", yanchor="bottom", yshift=14 * index, text=text,
            showarrow=False, font={"size": 11, "color": MUTED},
        )  # fmt: skip
    grouped = sum(one.kind != "tick" for one in series) if barmode == "group" else 1
    lines = max(label.count("<br>") + 1 for label in labels)
    row_px = max(14 * grouped + 8, 14 * lines + 16)
    fig.update_layout(
        # The legend is drawn in HTML above the chart (see page.chart): Plotly's wraps one item
        # per line once long cohort labels narrow the plot.
        _layout(height=90 + row_px * len(set(labels)), legend=False, top=14 * len(marks)),
        barmode=barmode,
        scattermode="group" if sum(one.kind == "dot" for one in series) > 1 else "overlay",
        bargap=0.25,
        xaxis=_value_axis(axis),
        yaxis={"type": "category", "autorange": "reversed", "automargin": True,
               "fixedrange": True, "ticks": "", "showgrid": False},
        meta={
            "rowPx": row_px,
            "basePx": 90,
            "keys": {key: [row[key] for row in rows] for key in keys},
            "legend": [
                [one.name, one.color if isinstance(one.color, str) else MUTED, one.kind]
                for one in series
                if len(series) > 1
            ],
        },
    )  # fmt: skip
    return fig


def trend_chart(rows: Sequence[Row], series: Sequence[Series], axis: Axis) -> go.Figure | None:
    """Monthly lines: one per (program, cohort) and series; colour by group, dash by series.

    A row with `is_partial` (the month of D, figures to D only) gets an open marker, "partial"
    in its hover text and a "partial month" label above it.
    """
    if not rows:
        return None
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row["program"], row["cohort"]), []).append(row)
    fig = go.Figure()
    for index, ((program, cohort), group_rows) in enumerate(groups.items()):
        label = group_label({"program": program, "cohort": cohort})
        for dash, one in zip(DASHES, series, strict=False):
            name = label if len(series) == 1 else f"{label} — {one.name}"
            fig.add_trace(
                go.Scatter(
                    x=[row["month_end"].replace(day=1) for row in group_rows],  # under its tick
                    y=[row[one.value] for row in group_rows],
                    name=name,
                    mode="lines+markers",
                    line={"color": PALETTE[index % len(PALETTE)], "dash": dash, "width": 2},
                    marker={
                        "size": [8 if row.get("is_partial") else 5 for row in group_rows],
                        "symbol": [
                            "circle-open" if row.get("is_partial") else "circle"
                            for row in group_rows
                        ],
                    },
                    hovertext=[
                        f"<b>{name}</b><br>{_month(row)}: {axis.fmt(row[one.value])}"
                        for row in group_rows
                    ],
                    hoverinfo="text",
                    meta={"rule": "series", "keys": {"program": program, "cohort": cohort}},
                )
            )
    partial = sorted({row["month_end"].replace(day=1) for row in rows if row.get("is_partial")})
    for month in partial:
        fig.add_annotation(
            x=month, y=1, yref="paper", yanchor="top", xanchor="right", text="partial month",
            showarrow=False, font={"size": 11, "color": MUTED},
        )  # fmt: skip
    fig.update_layout(
        _layout(height=300, legend=True),
        xaxis={
            "type": "date",
            "tickformat": "%b %Y",
            "nticks": 7,
            "automargin": True,
            "fixedrange": True,
            "gridcolor": GRID,
        },
        yaxis=_value_axis(axis),
    )
    return fig


def _month(row: Row) -> str:
    if row.get("is_partial"):
        return f"{row['month_end']:%b %Y} (partial, to {row['evaluated_on']:%-d %b})"
    return f"{row['month_end']:%b %Y}"


def _category_trace(
    rows: Sequence[Row],
    labels: list[str],
    series: Series,
    axis: Axis,
    detail: Callable[[Row, Series], str],
    values_on_bars: bool,
    filtered: bool,
) -> go.Bar | go.Scatter:
    values = [row[series.value] for row in rows]
    colors = [series.color(row) for row in rows] if callable(series.color) else series.color
    common = {
        "name": series.name,
        "x": values,
        "y": labels,
        "orientation": "h",
        # The template holds only our own text; data reaches it through %{y} and %{customdata}.
        "customdata": [_hover(row, series, axis, detail) for row in rows],
        "hovertemplate": f"<b>%{{y}}</b><br>{series.name}: %{{customdata}}<extra></extra>",
        "meta": "rows" if filtered else None,
    }
    if series.kind == "bar":
        texts = [axis.fmt(value) if value is not None else "" for value in values]
        return go.Bar(
            marker={"color": colors},
            text=texts if values_on_bars else None,
            textposition="outside",
            cliponaxis=False,
            **common,
        )
    if series.kind == "tick":
        return go.Scatter(
            mode="markers",
            marker={"symbol": "line-ns", "size": 20, "line": {"width": 3, "color": colors}},
            cliponaxis=False,
            **common,
        )
    # cliponaxis off: a dot at 0% or 100% is drawn whole, not cut in half by the plot edge.
    return go.Scatter(mode="markers", marker={"size": 10, "color": colors}, error_x=_error_bars(rows, series), cliponaxis=False, **common)  # fmt: skip


def _error_bars(rows: Sequence[Row], series: Series) -> dict[str, Any] | None:
    if series.low is None or series.high is None:
        return None

    def distance(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a - b

    return {
        "type": "data",
        "symmetric": False,
        "array": [distance(row[series.high], row[series.value]) for row in rows],
        "arrayminus": [distance(row[series.value], row[series.low]) for row in rows],
        "thickness": 1.5,
        "width": 4,
        "color": MUTED,
    }


def _hover(row: Row, series: Series, axis: Axis, detail: Callable) -> str:
    value = row[series.value]
    if value is None:
        return ""
    text = axis.fmt(value)
    if series.low is not None and row[series.low] is not None:
        text += (
            f" ({series.interval_name} {axis.fmt(row[series.low])} to {axis.fmt(row[series.high])})"
        )
    return text + detail(row, series)


def _notes(row: Row, series: Sequence[Series], note: Callable[[Row, Series], str | None]) -> str:
    """A second, grey label line naming missing values and why, e.g. 'Mentors: fewer than 5…'."""
    reasons: dict[str, list[str]] = {}
    for one in series:
        reason = note(row, one) if row[one.value] is None else None
        if reason:
            reasons.setdefault(reason, []).append(one.name)
    lines = [
        reason if len(series) == 1 else f"{', '.join(names)}: {reason}"
        for reason, names in reasons.items()
    ]
    return "".join(
        f'<br><span style="font-size:11px;color:{MUTED}">{part}</span>'
        for line in lines
        for part in _wrap(line)
    )


def _wrap(text: str, width: int = 30) -> list[str]:
    """Split a note into lines of about `width` characters, so it fits beside a phone's chart."""
    lines = [""]
    for word in text.split(" "):
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return lines


def _value_axis(axis: Axis) -> dict[str, Any]:
    return {
        # standoff keeps the title clear of the tick numbers (automargin makes room for both)
        "title": {"text": axis.title, "font": {"size": 12, "color": MUTED}, "standoff": 12},
        "tickformat": axis.tickformat,
        "range": list(axis.range) if axis.range else None,
        "rangemode": "tozero",
        "gridcolor": GRID,
        "zeroline": False,
        "fixedrange": True,
        "automargin": True,
    }


def _layout(*, height: int, legend: bool, top: int = 0) -> dict[str, Any]:
    return {
        "template": "none",
        "height": height,
        "margin": {"l": 8, "r": 48, "t": (36 if legend else 20) + top, "b": 8},
        "font": {"family": FONT, "size": 12, "color": INK},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "showlegend": legend,
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "hoverlabel": {
            "bgcolor": "white",
            "bordercolor": GRID,
            "font": {"family": FONT, "color": INK},
        },
        "hovermode": "closest",
    }
