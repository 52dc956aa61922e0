"""The early warning on the at-risk page in real headless Chromium (issue 14).

The marts come from the real code: staging events folded by the core SQL and the marts
(tests/unit/test_early_warning.py's histories), then assets/warehouse/early_warning.py fits,
scores and back-tests; the whole site is built by dashboards/build.py and served over HTTP.
One history is long enough to fit a model, one too short (the page falls back to the rule).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from assets.warehouse import early_warning as ew
from dashboards import queue
from dashboards.build import build_site
from tests.e2e.conftest import SCREENSHOTS, LoadedPage, serve
from tests.unit.test_early_warning import D, History, _identities, busy_history, tiny_history

pytestmark = pytest.mark.e2e

PAGE = "restricted/p/at_risk"  # program "P" of the histories
FLAGGED = ("not_started", "lapsed", "at_risk")
RULE_NAMES = {
    "not_started": "Not started",
    "lapsed": "Lapsed",
    "at_risk": "At risk",
    "on_track": "On track",
    "too_early": "Too early",
}


@dataclass
class Site:
    url: str
    risk: list[dict]  # marts.match_risk by risk_rank
    backtest: list[dict]  # marts.risk_backtest by test_month
    days_without: dict[str, int]  # match_cadence: days since the last meeting (or matching)


def _rows(con, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


@pytest.fixture(scope="module")
def site_of(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """`site_of(history)`: run the early warning on the history, build and serve the site."""
    servers = contextlib.ExitStack()

    def build(h: History) -> Site:
        h.snapshots()
        ew.build_risk_marts(h.con, dt.date.fromisoformat(D))
        _identities(h.con)
        out_dir = tmp_path_factory.mktemp("forecast_site")
        build_site(
            h.con,
            out_dir,
            as_of=dt.date.fromisoformat(D),
            built_at=dt.datetime(2024, 10, 1, 6, tzinfo=dt.UTC),
            min_group_size=5,
        )
        return Site(
            url=servers.enter_context(serve(out_dir)),
            risk=_rows(h.con, "SELECT * FROM marts.match_risk ORDER BY risk_rank"),
            backtest=_rows(h.con, "SELECT * FROM marts.risk_backtest ORDER BY test_month"),
            days_without=dict(
                h.con.execute(
                    "SELECT match_id, coalesce(days_since_last_meeting, active_days) "
                    "FROM marts.match_cadence"
                ).fetchall()
            ),
        )

    with servers:
        yield build


@pytest.fixture(scope="module")
def fitted(site_of) -> Site:
    return site_of(busy_history())


@pytest.fixture(scope="module")
def too_short(site_of) -> Site:
    h = tiny_history()  # one active pair with history: far fewer than 300 labelled snapshots
    h.wh.add_match("m4", "2024-09-25")  # in its first weeks: too early, listed last
    h.wh.add_match("m5", "2024-06-01")
    h.held("e1", "m5", "2024-09-01")  # on track, though 29 days without a meeting
    h.wh.add_match("m6", "2024-06-01", target=4)
    h.held("f1", "m6", "2024-09-10")  # at risk: 20 days, over twice its weekly target gap
    return site_of(h)


def _table(page, selector: str) -> tuple[list[str], list[dict[str, str]]]:
    """Headers and body rows (header -> cell text) of the first table under `selector`."""
    table = page.locator(f"{selector} table").first
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    rows = [
        dict(zip(headers, cells, strict=True))
        for cells in table.locator("tbody tr").evaluate_all(
            "rows => rows.map((r) => Array.from(r.cells, (c) => c.innerText.trim()))"
        )
    ]
    return headers, rows


def _match_of(pair_text: str, risk: list[dict]) -> str:
    """The match a Pair cell names ("Mentor of m020 ...", see _identities)."""
    words = pair_text.split()
    found = [r["match_id"] for r in risk if r["match_id"] in words]
    assert len(found) == 1, pair_text
    return found[0]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _assert_clean(loaded: LoadedPage) -> None:
    assert loaded.page_errors == []
    assert loaded.console_errors == []
    assert loaded.external_requests == []


def test_the_forecast_is_listed_highest_first_with_reasons_beside_the_rule(visit, fitted: Site):
    assert {r["model_status"] for r in fitted.risk} == {"fitted"}
    loaded = visit(fitted.url, PAGE)
    page = loaded.page
    section = page.locator("#forecast")
    assert section.is_visible()
    explain = section.locator(".explain").inner_text()
    assert "How often pairs with a forecast like this one closed early" in explain
    assert "not a raw probability" in explain

    headers, rows = _table(page, "#forecast")
    assert headers[:4] == ["Rank", "Pair", "Forecast band", "Rule status"] and "Why" in headers
    assert len(rows) == len(fitted.risk)
    by_id = {r["match_id"]: r for r in fitted.risk}
    shown = [_match_of(row["Pair"], fitted.risk) for row in rows]
    assert shown == [r["match_id"] for r in fitted.risk]  # the mart's rank order
    assert [row["Rank"] for row in rows] == [str(i) for i in range(1, len(rows) + 1)]

    # sorted by forecast: the probabilities behind the cells never rise down the list
    probabilities = [
        float(v) if v else None
        for v in section.locator("tbody tr td:nth-child(3)").evaluate_all(
            "cells => cells.map((c) => c.dataset.sort)"
        )
    ]
    scored = [p for p in probabilities if p is not None]
    assert len(scored) > 10 and scored == sorted(scored, reverse=True)
    assert probabilities == [by_id[m]["probability"] for m in shown]

    # Each forecast is shown as its band's observed rate in the back-test, never the raw
    # probability (which said "100%" for pairs whose band came true a third of the time).
    bands = queue.pooled_bands(
        [r["calibration"] for r in fitted.backtest if r["model_status"] == "fitted"]
    )
    for match_id, row in zip(shown, rows, strict=True):
        mart = by_id[match_id]
        band = queue.band_of(mart["probability"], bands)
        expected = (
            "not back-tested" if band is None else f"{_pct(band.observed)} (n = {band.matches})"
        )
        assert " ".join(row["Forecast band"].split()) == expected
        assert row["Rule status"] == RULE_NAMES[mart["rule_status"]]
        assert row["Why"] == mart["reasons"] and row["Why"]
    # the reasons of the riskiest pair are the model's words, beside a flag by the rule
    assert rows[0]["Why"].startswith("no meeting for ")
    assert rows[0]["Rule status"] in [RULE_NAMES[s] for s in FLAGGED]

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SCREENSHOTS / "at_risk_forecast.png"))
    _assert_clean(loaded)


def test_the_back_test_panel_shows_the_marts_figures(visit, fitted: Site):
    loaded = visit(fitted.url, PAGE)
    page = loaded.page
    panel = page.locator("#warning-quality")
    assert panel.locator("h2").inner_text() == "How good is this warning"
    headers, rows = _table(page, "#warning-quality")
    assert {"AUC", "Brier", "Model precision", "Rule precision"} <= set(headers)
    assert len(rows) == len(fitted.backtest)
    tested = [b for b in fitted.backtest if b["model_status"] == "fitted"]
    assert tested and all(b["auc"] is not None for b in tested)
    for row, mart in zip(rows, fitted.backtest, strict=True):
        assert row["Month end"] == mart["test_month"].isoformat()
        assert row["Pairs"] == str(mart["matches"])
        assert row["Closed early or went quiet"] == str(mart["positives"])
        assert row["AUC"] == ("—" if mart["auc"] is None else f"{mart['auc']:.2f}")
        assert row["Brier"] == ("—" if mart["brier"] is None else f"{mart['brier']:.3f}")
        assert row["Flagged"] == str(mart["flagged"])
        for who in ("model", "rule"):
            assert row[f"{who.title()} precision"] == _pct(mart[f"{who}_precision"])
            assert row[f"{who.title()} recall"] == _pct(mart[f"{who}_recall"])
    flagged = sum(b["flagged"] for b in tested)
    hits = {
        who: sum(round(b[f"{who}_precision"] * b["flagged"]) for b in tested if b["flagged"])
        for who in ("model", "rule")
    }
    months = "1 tested month" if len(tested) == 1 else f"{len(tested)} tested months"
    assert panel.locator("p:not(.explain)").first.inner_text() == (
        f"Over {months}, flagging {flagged} pairs: the model was right for "
        f"{_pct(hits['model'] / flagged)}, the rule for {_pct(hits['rule'] / flagged)}."
    )
    latest = tested[-1]["test_month"].isoformat()
    assert panel.locator("h3").inner_text() == f"Calibration, month end {latest}"
    panel.screenshot(path=str(SCREENSHOTS / "at_risk_backtest.png"))
    _assert_clean(loaded)


def test_with_too_short_a_history_the_page_ranks_by_the_rule(visit, too_short: Site):
    assert {r["model_status"] for r in too_short.risk} == {"too_short"}
    loaded = visit(too_short.url, PAGE)
    page = loaded.page
    section = page.locator("#forecast")
    explain = section.locator(".explain").inner_text()
    assert explain.startswith("No forecast yet — ") and "(fewer than 300)" in explain
    assert "Pairs are listed by the rule" in explain

    headers, rows = _table(page, "#forecast")
    assert "Forecast" not in headers and "Rule status" in headers
    shown = [_match_of(row["Pair"], too_short.risk) for row in rows]
    status = {r["match_id"]: r["rule_status"] for r in too_short.risk}
    # the rule's order, computed here: flagged first, then longest without a meeting, the
    # pairs in their first weeks last
    expected = sorted(
        status,
        key=lambda m: (
            status[m] == "too_early",
            status[m] not in FLAGGED,
            -too_short.days_without[m],
            m,
        ),
    )
    assert shown == expected and len(shown) == 4
    assert [status[m] for m in shown] == ["lapsed", "at_risk", "on_track", "too_early"]
    by_id = {r["match_id"]: r for r in too_short.risk}
    for match_id, row in zip(shown, rows, strict=True):
        assert row["Rule status"] == RULE_NAMES[status[match_id]]
        assert row["Why"] == by_id[match_id]["reasons"]
    assert rows[-1]["Why"] == "matched 5 days ago: too early to score"

    panel = page.locator("#warning-quality")
    assert "Not enough history to test a model yet" in panel.inner_text()
    assert panel.locator("table").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "at_risk_forecast_too_short.png"), full_page=True)
    _assert_clean(loaded)
