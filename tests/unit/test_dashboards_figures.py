"""The formatting and chart helpers the pages are built from."""

from __future__ import annotations

import datetime as dt

from dashboards import fmt
from dashboards.figures import Axis, Series, category_chart, trend_chart

INJECTION = "<img src=x onerror=alert(1)>"
ROWS = [
    {"program": "P & Q", "cohort": "(all)", "value": 0.5, "suppressed": False},
    {"program": "P & Q", "cohort": INJECTION, "value": None, "suppressed": True},
]
AXIS = Axis("share", fmt.pct, ".0%", (0, 1))


def test_formatting_never_gives_a_blank():
    assert fmt.pct(None) == fmt.count(None) == fmt.signed(None) == fmt.MISSING
    assert fmt.pct(0.456) == "46%"
    assert fmt.signed(0.0) == "+0"
    assert fmt.interval(0.1, 0.3, fmt.pct) == "10% to 30%"
    assert fmt.interval(None, 0.3, fmt.pct) == ""
    assert fmt.fewer_than(5) == "fewer than 5 responses"
    assert fmt.missing_survey_figure(True, 7) == "fewer than 7 responses"
    assert fmt.missing_survey_figure(None, 7) == "no responses yet"
    assert fmt.timestamp(dt.datetime(2026, 3, 15, 6, 30, tzinfo=dt.UTC)) == "2026-03-15 06:30 UTC"


def test_group_labels_are_escaped_and_name_the_rollup():
    assert fmt.group_label(ROWS[0]) == "P &amp; Q · All cohorts"
    assert fmt.group_label(ROWS[1]) == "P &amp; Q · &lt;img src=x onerror=alert(1)&gt;"


def test_category_chart_labels_missing_values_and_tags_points_for_the_filter():
    figure = category_chart(
        ROWS,
        [Series("Share", "value")],
        AXIS,
        note=lambda row, _s: fmt.fewer_than(5) if row["suppressed"] else None,
    )
    (trace,) = figure.data
    assert trace.y[0] == "P &amp; Q · All cohorts"
    assert trace.y[1].startswith("P &amp; Q · &lt;img")
    assert "fewer than 5 responses" in trace.y[1]
    assert trace.meta == "rows"
    assert figure.layout.meta["keys"] == {"program": ["P & Q"] * 2, "cohort": ["(all)", INJECTION]}
    assert trace.customdata[1] == ""
    assert INJECTION not in figure.to_json()


def test_trend_chart_draws_one_series_per_group_plotted_under_its_month():
    rows = [
        {"program": "P", "cohort": "(all)", "month_end": dt.date(2026, 1, 31), "n": 3},
        {"program": "P", "cohort": "(all)", "month_end": dt.date(2026, 2, 28), "n": 4},
        {"program": "P", "cohort": "A", "month_end": dt.date(2026, 2, 28), "n": 1},
    ]
    figure = trend_chart(rows, [Series("Count", "n")], Axis("count", fmt.count))
    assert [trace.meta["keys"]["cohort"] for trace in figure.data] == ["(all)", "A"]
    assert list(figure.data[0].x) == [dt.date(2026, 1, 1), dt.date(2026, 2, 1)]


def test_no_rows_means_no_chart():
    assert category_chart([], [Series("Share", "value")], AXIS) is None
    assert trend_chart([], [Series("Share", "value")], AXIS) is None
