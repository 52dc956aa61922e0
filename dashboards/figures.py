"""Plotly figures built from aggregated rows, one function per chart shape.

Labels and hover texts come from `dashboards.fmt` and are escaped already. Hover text is built
here rather than with Plotly templates, so a data string can never act as a template either.

Each trace carries `meta` telling the page's filter script which program/cohort it shows:
- rule "rows": one key per point (a chart comparing groups); the filter drops points.
- rule "series": one key for the whole trace (a trend line, a funnel); the filter hides it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from dashboards.fmt import group_label
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
    label: Callable[[Row], str] = group_label,
    keys: Sequence[str] = GROUP_KEYS,
    detail: Callable[[Row, Series], str] = no_detail,
    note: Callable[[Row, Series], str | None] = no_note,
    values_on_bars: bool = False,
    marks: Sequence[tuple[float, str]] = (),
) -> go.Figure | None:
    """Horizontal chart with one category per row (e.g. per cohort) and one trace per series.

    `detail` adds hover lines (such as n); `note` gives the words shown where a value is missing
    (e.g. "fewer than 5 responses"), so a suppressed figure is never just a blank.
    """
    if not rows:
        return None
    labels = [label(row) for row in rows]
    meta = _point_meta(rows, keys)
    fig = go.Figure()
    for one in series:
        fig.add_trace(_category_trace(rows, labels, one, axis, detail, values_on_bars, meta))
    notes = ["; ".join(filter(None, (note(row, one) for one in series))) for row in rows]
    if any(notes):
        fig.add_trace(_note_trace(labels, notes, axis, meta))
    for value, text in marks:
        fig.add_vline(x=value, line={"color": MUTED, "dash": "dot", "width": 1})
        fig.add_annotation(
            x=value, y=1, yref="paper", yanchor="bottom", text=text, showarrow=False,
            font={"size": 11, "color": MUTED},
        )  # fmt: skip
    grouped = sum(one.kind != "tick" for one in series) if barmode == "group" else 1
    row_px = max(26, 14 * grouped + 8)
    fig.update_layout(
        _layout(height=90 + row_px * len(set(labels)), legend=len(series) > 1),
        barmode=barmode,
        scattermode="group" if sum(one.kind == "dot" for one in series) > 1 else "overlay",
        bargap=0.25,
        xaxis=_value_axis(axis),
        yaxis={"type": "category", "autorange": "reversed", "automargin": True,
               "fixedrange": True, "ticks": "", "showgrid": False},
        meta={"rowPx": row_px, "basePx": 90},
    )  # fmt: skip
    return fig


def trend_chart(rows: Sequence[Row], series: Sequence[Series], axis: Axis) -> go.Figure | None:
    """Monthly lines: one per (program, cohort) and series; colour by group, dash by series."""
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
                    x=[row["month_end"] for row in group_rows],
                    y=[row[one.value] for row in group_rows],
                    name=name,
                    mode="lines+markers",
                    line={"color": PALETTE[index % len(PALETTE)], "dash": dash, "width": 2},
                    marker={"size": 5},
                    hovertext=[
                        f"<b>{name}</b><br>{row['month_end']:%b %Y}: {axis.fmt(row[one.value])}"
                        for row in group_rows
                    ],
                    hoverinfo="text",
                    meta={"rule": "series", "keys": {"program": program, "cohort": cohort}},
                )
            )
    fig.update_layout(
        _layout(height=300, legend=True),
        xaxis={"type": "date", "tickformat": "%b %Y", "fixedrange": True, "gridcolor": GRID},
        yaxis={**_value_axis(axis), "rangemode": "tozero"},
    )
    return fig


def funnel_chart(rows: Sequence[Row], stages: Sequence[tuple[str, str]]) -> go.Figure | None:
    """One funnel per (program, cohort): `stages` are (label, column) from widest to narrowest."""
    if not rows:
        return None
    fig = go.Figure()
    for index, row in enumerate(rows):
        label = group_label(row)
        counts = [row[column] or 0 for _, column in stages]
        first = counts[0] or 1
        fig.add_trace(
            go.Funnel(
                name=label,
                y=[stage for stage, _ in stages],
                x=counts,
                textinfo="value+percent initial",
                marker={"color": PALETTE[index % len(PALETTE)]},
                hovertext=[
                    f"<b>{label}</b><br>{stage}: {value:,} ({value / first:.0%} of goals set)"
                    for (stage, _), value in zip(stages, counts, strict=True)
                ],
                hoverinfo="text",
                meta={"rule": "series", "keys": {"program": row["program"], "cohort": row["cohort"]}},
            )
        )
    fig.update_layout(
        _layout(height=300, legend=True),
        funnelmode="group",
        yaxis={"fixedrange": True, "automargin": True},
        xaxis={"fixedrange": True},
    )
    return fig


def _category_trace(
    rows: Sequence[Row],
    labels: list[str],
    series: Series,
    axis: Axis,
    detail: Callable[[Row, Series], str],
    values_on_bars: bool,
    meta: dict[str, Any],
) -> go.Bar | go.Scatter:
    values = [row[series.value] for row in rows]
    colors = [series.color(row) if callable(series.color) else series.color for row in rows]
    common = {
        "name": series.name,
        "x": values,
        "y": labels,
        "orientation": "h",
        "hovertext": [
            _hover(label, row, series, axis, detail)
            for label, row in zip(labels, rows, strict=True)
        ],
        "hoverinfo": "text",
        "meta": meta,
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
            **common,
        )
    return go.Scatter(mode="markers", marker={"size": 10, "color": colors}, error_x=_error_bars(rows, series), **common)  # fmt: skip


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


def _hover(label: str, row: Row, series: Series, axis: Axis, detail: Callable) -> str:
    value = row[series.value]
    if value is None:
        return ""
    text = f"<b>{label}</b><br>{series.name}: {axis.fmt(value)}"
    if series.low is not None and row[series.low] is not None:
        text += f" ({series.interval_name} {axis.fmt(row[series.low])}–{axis.fmt(row[series.high])})"
    return text + detail(row, series)


def _note_trace(labels: list[str], notes: list[str], axis: Axis, meta: dict) -> go.Scatter:
    """Words drawn at the start of a category whose value is missing (e.g. suppressed)."""
    start = axis.range[0] if axis.range else 0
    return go.Scatter(
        x=[start] * len(labels),
        y=labels,
        text=notes,
        mode="text",
        textposition="middle right",
        textfont={"color": MUTED, "size": 12},
        hoverinfo="skip",
        showlegend=False,
        meta=meta,
    )


def _point_meta(rows: Sequence[Row], keys: Sequence[str]) -> dict[str, Any] | None:
    if not keys:
        return None
    return {"rule": "rows", "keys": {key: [row[key] for row in rows] for key in keys}}


def _value_axis(axis: Axis) -> dict[str, Any]:
    return {
        "title": {"text": axis.title, "font": {"size": 12, "color": MUTED}},
        "tickformat": axis.tickformat,
        "range": list(axis.range) if axis.range else None,
        "gridcolor": GRID,
        "zeroline": False,
        "fixedrange": True,
        "automargin": True,
    }


def _layout(*, height: int, legend: bool) -> dict[str, Any]:
    return {
        "template": "none",
        "height": height,
        "margin": {"l": 8, "r": 48, "t": 36 if legend else 20, "b": 8},
        "font": {"family": FONT, "size": 12, "color": INK},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "showlegend": legend,
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "hoverlabel": {"bgcolor": "white", "bordercolor": GRID, "font": {"family": FONT, "color": INK}},
        "hovermode": "closest",
    }
