"""Honest pages (issue 22): a stale banner measured from the build date, and "on track" shown
beside the pace against target."""

from __future__ import annotations

import datetime as dt
import html
import re

import duckdb

from dashboards.build import build_site
from tests.dashboard_fixture import AS_OF, BUILT_AT, MIN_GROUP_SIZE, create_fixture


def _pages(tmp_path, built_at: dt.datetime) -> dict[str, str]:
    with duckdb.connect() as con:
        create_fixture(con)
        build_site(con, tmp_path, as_of=AS_OF, built_at=built_at, min_group_size=MIN_GROUP_SIZE)
    return {p.stem: p.read_text() for p in tmp_path.glob("*.html")}


def test_data_older_than_the_limit_counted_from_the_build_date_gets_the_banner(tmp_path):
    # Built 18 days after D: every dated source is older than the 7-day limit today, although
    # it was fresh on D.
    pages = _pages(tmp_path, BUILT_AT + dt.timedelta(days=18))
    for name, text in pages.items():
        assert 'class="banner stale"' in text, name
        assert "days before the build date" in text, name
    assert re.search(
        r"meetings: newest record [\d-]+, \d+ days before the build date", pages["overview"]
    )


def test_on_track_is_shown_beside_the_pace_against_target(tmp_path):
    pages = _pages(tmp_path, BUILT_AT)
    text = html.unescape(re.sub(r"<[^>]+>", " ", pages["overview"]))
    assert re.search(r"meeting \d+(\.\d+)? a month vs target \d+(\.\d+)?", text)
