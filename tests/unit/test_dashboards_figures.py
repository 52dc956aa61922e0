"""The formatting and chart helpers the pages are built from."""

from __future__ import annotations

import datetime as dt
import re

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
    # Program over cohort, two lines, so labels stay narrow on a phone.
    assert trace.y[0].endswith("P &amp; Q</span><br>All cohorts")
    assert "<br>&lt;img src=x" in trace.y[1]
    assert "fewer than 5 responses" in trace.y[1]
    assert trace.meta == "rows"
    assert figure.layout.meta["keys"] == {"program": ["P & Q"] * 2, "cohort": ["(all)", INJECTION]}
    assert trace.customdata[1] == ""
    assert INJECTION not in figure.to_json()


def test_dots_are_never_cut_by_the_plot_edge():
    figure = category_chart(ROWS, [Series("Share", "value", kind="dot")], AXIS)
    assert figure.data[0].cliponaxis is False
    assert figure.layout.xaxis.title.standoff > 0  # the title keeps clear of the numbers


def test_long_notes_wrap_beside_the_chart():
    figure = category_chart(
        ROWS,
        [Series("Share", "value")],
        AXIS,
        note=lambda _row, _s: "no active pairs past their first weeks of the program",
    )
    notes = figure.data[0].y[1].split("<br>")[2:]
    assert len(notes) >= 2 and all(len(re.sub(r"<[^>]*>", "", n)) <= 30 for n in notes)


def test_change_says_better_worse_or_the_same_with_an_arrow():
    up = fmt.change(0.62, 0.55, fmt.points, since="28 Feb 2026")
    assert (
        'class="change better"' in up and "▲" in up and "+7 pts" in up and "since 28 Feb 2026" in up
    )
    worse = fmt.change(10, 14, fmt.signed_count, since="x", higher_is_better=False)
    assert 'class="change better"' in worse and "▼" in worse  # fewer overdue goals is better
    assert 'class="change worse"' in fmt.change(3.1, 3.4, fmt.signed_decimal, since="w1")
    assert 'class="change neutral"' in fmt.change(
        5, 4, fmt.signed_count, since="x", higher_is_better=None
    )
    same = fmt.change(0.621, 0.618, fmt.points, since="x")
    assert 'class="change same"' in same and "no change" in same
    assert 'class="change none"' in fmt.change(None, 0.5, fmt.points, since="28 Feb 2026")


def test_trend_chart_marks_the_partial_month():
    rows = [
        {"program": "P", "cohort": "(all)", "month_end": dt.date(2026, 2, 28), "n": 3,
         "is_partial": False, "evaluated_on": dt.date(2026, 2, 28)},
        {"program": "P", "cohort": "(all)", "month_end": dt.date(2026, 3, 31), "n": 2,
         "is_partial": True, "evaluated_on": dt.date(2026, 3, 15)},
    ]  # fmt: skip
    figure = trend_chart(rows, [Series("Count", "n")], Axis("count", fmt.count))
    (trace,) = figure.data
    assert list(trace.marker.symbol) == ["circle", "circle-open"]
    assert "partial, to 15 Mar" in trace.hovertext[1]
    assert [a.text for a in figure.layout.annotations] == ["partial month"]


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


def test_interval_bounds_are_kept_inside_the_scale_and_null_stays_null() -> None:
    import duckdb
    import pytest

    from dashboards.sql import within

    con = duckdb.connect()
    values = con.execute(
        f"SELECT {within('x', 1, 5)} FROM (VALUES (-0.13::DOUBLE), (3.2), (5.4), (NULL)) AS t(x)"
    ).fetchall()
    assert [v for (v,) in values] == [1, pytest.approx(3.2), 5, None]
