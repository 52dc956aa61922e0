"""The restricted pages (at-risk, comments) and the weekly digests, built from the fixture into
a real directory, one folder per program: modes on disk, what they show, that each program's
folder holds that program only, what the public pages never show."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import stat
from pathlib import Path

import duckdb
import pytest

from assets.settings import SettingsError, load_settings
from dashboards import digest
from dashboards.build import build_site
from dashboards.page import Context
from tests.dashboard_fixture import (
    AS_OF,
    BUILT_AT,
    COMMENT_TEXTS,
    MIN_GROUP_SIZE,
    TINY_WAVE,
    UNICODE_NAME,
    create_fixture,
)

ENG, LID = "engineering-mentoring", "lideranca-growth"
PROGRAMS = {ENG: "Engineering Mentoring", LID: "Liderança & Growth"}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _pages(site: Path, name: str) -> str:
    """A restricted page of every program, one after the other."""
    return "".join((site / "restricted" / slug / f"{name}.html").read_text() for slug in PROGRAMS)


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("db") / "pipeline.duckdb"
    with duckdb.connect(str(path)) as connection:
        create_fixture(connection)
        yield connection


def _build(con, out_dir: Path, as_of: dt.date = AS_OF):
    return build_site(con, out_dir, as_of=as_of, built_at=BUILT_AT, min_group_size=MIN_GROUP_SIZE)


@pytest.fixture(scope="module")
def built(con, tmp_path_factory: pytest.TempPathFactory):
    out_dir = tmp_path_factory.mktemp("site")
    # An older build left the at-risk page public and a restricted folder open to all.
    (out_dir / "at_risk.html").write_text("names")
    (out_dir / "restricted").mkdir(mode=0o755)
    (out_dir / "restricted").chmod(0o755)
    # A killed build left its temporary pages (write_atomic's names) behind.
    (out_dir / ".overview.html.k1ll3d.tmp").write_text("half a page")
    (out_dir / "restricted" / ".at_risk.html.k1ll3d.tmp").write_text("names")
    (out_dir / "restricted" / ENG).mkdir()
    (out_dir / "restricted" / ENG / ".at_risk.html.k1ll3d.tmp").write_text("names")
    # An older build wrote every program's names into one page and one digest.
    (out_dir / "restricted" / "at_risk.html").write_text("names")
    (out_dir / "digest").mkdir()
    (out_dir / "digest" / "latest.html").write_text("names")
    (out_dir / "digest" / "digest-2026-03-01.html").write_text("names")
    return out_dir, _build(con, out_dir)


@pytest.fixture(scope="module")
def site(built) -> Path:
    return built[0]


def _text(path: Path) -> str:
    """The page's visible text, tags dropped and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", path.read_text()))


def test_restricted_outputs_are_private_on_disk_and_public_pages_are_not(built):
    tmp_path, paths = built[0], built[1].paths

    assert not (tmp_path / "at_risk.html").exists()
    assert not (tmp_path / "restricted" / "at_risk.html").exists()
    assert not (tmp_path / "digest" / "latest.html").exists()
    assert not list((tmp_path / "digest").glob("digest-*.html"))
    for folder in ("restricted", "digest", "operator"):
        assert _mode(tmp_path / folder) == 0o700, folder
        inside = list((tmp_path / folder).rglob("*"))
        assert inside and all(_mode(f) == (0o700 if f.is_dir() else 0o600) for f in inside)
    written = {p.relative_to(tmp_path).as_posix() for p in paths}
    for slug in PROGRAMS:
        assert written >= {
            f"restricted/{slug}/at_risk.html",
            f"restricted/{slug}/comments.html",
            f"restricted/{slug}/matches.json",
            f"digest/{slug}/digest-{AS_OF.isoformat()}.html",
            f"digest/{slug}/latest.html",
        }
    assert written >= {
        f"digest/state-{AS_OF.isoformat()}.json",
        "operator/latest.html",
        f"operator/digest-{AS_OF.isoformat()}.html",
    }
    public = [p for p in paths if p.parent == tmp_path]
    assert public and all(_mode(p) == 0o644 for p in public)


def test_temporary_pages_of_a_killed_build_are_removed(site):
    assert list(site.rglob(".*.tmp")) == []
    assert (site / "overview.html").exists()
    assert (site / "restricted" / ENG / "at_risk.html").exists()


def _names_only_in(con, program: str) -> set[str]:
    """E-mails of people in a pair of `program` and in no pair of another program (names
    repeat in the fixture; e-mails do not)."""
    return {
        name
        for (name,) in con.execute(
            """WITH people AS (
                   SELECT program, unnest([mentor_key, mentee_key]) AS key FROM marts.match_cadence)
               SELECT i.email FROM restricted.participant_identity i
               JOIN people p ON p.key = i.participant_key WHERE i.email LIKE '%@%'
               GROUP BY i.email HAVING bool_and(p.program = ?)""",
            [program],
        ).fetchall()
    }


def test_each_program_folder_holds_that_program_only(con, site):
    for slug, program in PROGRAMS.items():
        others = set().union(*(_names_only_in(con, p) for p in PROGRAMS.values() if p != program))
        mine = _names_only_in(con, program)
        assert others and mine
        files = [
            site / "restricted" / slug / "at_risk.html",
            site / "restricted" / slug / "comments.html",
            site / "digest" / slug / "latest.html",
        ]
        for path in files:
            content = html.unescape(path.read_text())
            assert not [e for e in others if re.search(rf"\b{re.escape(e)}\b", content)], path
        assert any(e in html.unescape(files[0].read_text()) for e in mine)
        ids = set(json.loads((site / "restricted" / slug / "matches.json").read_text()))
        expected = {
            m
            for (m,) in con.execute(
                "SELECT match_id FROM marts.match_cadence WHERE program = ?", [program]
            ).fetchall()
        }
        assert ids == expected
        # Its filters offer its own program only.
        assert f'<option value="{html.escape(PROGRAMS[slug])}"' in files[0].read_text()
        other = next(p for p in PROGRAMS.values() if p != program)
        assert f'<option value="{html.escape(other)}"' not in files[0].read_text()


def test_data_problems_are_in_the_operators_digest_not_the_managers(site):
    operator = (site / "operator" / "latest.html").read_text()
    assert "Data problems" in operator and "Files with problems" in operator
    assert "@" not in operator  # no e-mail address, no mailto
    for slug in PROGRAMS:
        managers = (site / "digest" / slug / "latest.html").read_text()
        assert "Data problems" not in managers and "quarantined" not in managers


def test_public_pages_show_no_comment_names_or_emails(con, site):
    emails = [
        e
        for (e,) in con.execute("SELECT email FROM restricted.participant_identity").fetchall()
        if e
    ]
    texts = [t.split("{")[0].strip() for t in COMMENT_TEXTS if len(t.split("{")[0].strip()) > 8]
    for page in site.glob("*.html"):
        content = page.read_text()
        assert html.escape(UNICODE_NAME) not in content, page.name
        assert not any(email in content for email in emails), page.name
        assert not any(html.escape(text) in content for text in texts), page.name


def test_links_between_public_and_restricted_pages_resolve(site):
    pages = [*site.glob("*.html"), *(site / "restricted").rglob("*.html")]
    pages += list((site / "digest").rglob("*.html"))
    for page in pages:
        for href in re.findall(r'(?:href|src)="([^":#?]+)[#?"]', page.read_text()):
            if href.startswith("/followup/"):  # the form `mentorpulse serve` answers
                continue
            assert (page.parent / href).resolve().exists(), (page, href)
    assert f'href="restricted/{LID}/at_risk.html"' in (site / "index.html").read_text()
    assert 'href="../../overview.html"' in (site / "restricted" / ENG / "at_risk.html").read_text()
    assert 'href="comments.html"' not in (site / "index.html").read_text()


# --- comments -----------------------------------------------------------------------------


def test_comments_hidden_for_a_group_under_k_and_shown_masked_for_the_others(con, site):
    page = _pages(site, "comments")
    groups = re.findall(
        r'<div class="comment-group" data-filter="rows" data-program="[^"]*" '
        r'data-survey_id="([^"]*)" data-role="([^"]*)">(.*?)</div>',
        page,
        flags=re.S,
    )
    tiny = [body for wave, _, body in groups if wave == TINY_WAVE]
    assert len(tiny) == 2  # mentors and mentees of a three-pair cohort
    assert all(f"fewer than {MIN_GROUP_SIZE} respondents" in body for body in tiny)
    assert all("<li>" not in body for body in tiny)

    shown = [body for wave, _, body in groups if wave != TINY_WAVE]
    items = [c for body in shown for c in re.findall(r"<li>(.*?)</li>", body, flags=re.S)]
    comments = [html.unescape(re.sub(r' <span class="times">×\d+</span>$', "", c)) for c in items]
    # The same words are listed once per group, with how many wrote them.
    times = [int(n) for c in items for n in re.findall(r'class="times">×(\d+)<', c)]
    assert len(comments) + sum(n - 1 for n in times) > 50 and times
    for body in shown:
        texts = [
            " ".join(html.unescape(re.sub(r"<[^>]+>.*", "", c)).split()).casefold()
            for c in re.findall(r"<li>(.*?)</li>", body, flags=re.S)
        ]
        assert len(texts) == len(set(texts))
    # Masked: no roster name part (three letters or more) and no e-mail address is left.
    parts = {
        part.lower()
        for (name,) in con.execute(
            "SELECT full_name FROM restricted.participant_identity"
        ).fetchall()
        for part in re.findall(r"[^\W\d_]{3,}", name)
    }
    words = {w.lower() for c in comments for w in re.findall(r"[^\W\d_]+", c)}
    assert not words & parts
    assert not any("@" in c for c in comments)
    assert any("[name]" in c for c in comments) and any("[e-mail]" in c for c in comments)
    assert "A second line, kept as written." in page
    # Unattributed: no match id or respondent key reaches the page.
    assert not re.search(r"M\d{5}", page)


def test_comment_counts_and_order_are_stable_per_build_and_random_within(con, site, tmp_path):
    _build(con, tmp_path)
    pages = [_pages(folder, "comments") for folder in (site, tmp_path)]
    assert pages[0] == pages[1]

    first_group = pages[0].split('class="comment-group"')[1]
    order = [_text_of(item) for item in re.findall(r"<li>(.*?)</li>", first_group)]
    assert len(order) >= 3 and order != sorted(order)

    (respondents, comments) = con.execute(
        """SELECT count(DISTINCT respondent_key),
               count(*) FILTER (WHERE trim(coalesce(comment, '')) <> '')
           FROM core.survey_responses r JOIN staging.responses s USING (response_id)
           JOIN marts.match_cadence m ON m.match_id = r.match_id
           WHERE m.program = 'Engineering Mentoring' AND r.survey_id = 'pulse-2026-03'
               AND r.role = 'mentee'"""
    ).fetchone()
    assert f"{respondents} respondents, {comments} comments" in pages[0]


def _text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


# --- at-risk page -------------------------------------------------------------------------


def test_at_risk_page_flags_missing_emails_links_the_others_and_exports_raw_values(con, site):
    pairs = "".join(
        page.split('id="pairs"')[1].split("</section>")[0]
        for page in (_pages(site, "at_risk").split("<!doctype html>")[1:])
    )
    missing, people = con.execute(
        """SELECT count(*) FILTER (WHERE nullif(trim(i.email), '') IS NULL), count(*)
           FROM marts.at_risk_matches a, unnest([a.mentor_key, a.mentee_key]) AS k(key)
           LEFT JOIN restricted.participant_identity i ON i.participant_key = k.key"""
    ).fetchone()
    assert missing > 0
    assert pairs.count('class="no-email"') == missing
    assert pairs.count('href="mailto:') == people - missing
    notes = re.findall(r"(\d+) (?:people have|person has) no e-mail on the roster", pairs)
    assert sum(int(n) for n in notes) == missing

    rows = re.findall(r'<tr data-filter="rows"[^>]* data-csv="([^"]*)"', pairs)
    at_risk = con.execute("SELECT count(*) FROM marts.at_risk_matches").fetchone()[0]
    assert len(rows) == at_risk
    first = json.loads(html.unescape(rows[0]))
    header = json.loads(html.unescape(re.search(r'data-header="([^"]*)"', pairs).group(1)))
    assert len(first) == len(header) and header[2] == "Mentor" and header[-1] == "Match"
    assert re.fullmatch(r"M\d{5}", first[-1])


def test_overdue_goals_are_those_of_active_pairs_with_names(con, site):
    overdue = "".join(
        page.split('id="overdue"')[1].split("</section>")[0]
        for page in (_pages(site, "at_risk").split("<!doctype html>")[1:])
    )
    listed = {json.loads(html.unescape(c))[-1] for c in re.findall(r'data-csv="([^"]*)"', overdue)}
    expected = {
        goal
        for (goal,) in con.execute(
            """SELECT goal_id FROM marts.goal_status JOIN marts.match_cadence USING (match_id)
               WHERE is_overdue AND is_active"""
        ).fetchall()
    }
    ended = {
        goal
        for (goal,) in con.execute(
            """SELECT goal_id FROM marts.goal_status JOIN marts.match_cadence USING (match_id)
               WHERE is_overdue AND NOT is_active"""
        ).fetchall()
    }
    assert ended, "the fixture should have overdue goals of ended pairs"
    assert listed == expected
    assert 'class="person"' in overdue


# --- digest -------------------------------------------------------------------------------


def test_digest_lists_what_is_new_since_the_digest_a_week_before(con, tmp_path):
    risky = con.execute(
        "SELECT match_id, program FROM marts.at_risk_matches ORDER BY match_id LIMIT 1"
    ).fetchone()
    con.execute(
        "CREATE TEMP TABLE held AS SELECT * FROM marts.at_risk_matches WHERE match_id = ?",
        [risky[0]],
    )
    con.execute("DELETE FROM marts.at_risk_matches WHERE match_id = ?", [risky[0]])
    week_ago = AS_OF - dt.timedelta(days=7)
    try:  # the digest of a week ago saw one pair fewer at risk
        ctx = Context(con=con, as_of=week_ago, built_at=BUILT_AT, min_group_size=MIN_GROUP_SIZE)
        state = digest.compose(ctx, tmp_path / "digest").state
        (tmp_path / "digest").mkdir()
        (tmp_path / "digest" / f"state-{week_ago}.json").write_text(json.dumps(state, default=str))
    finally:
        con.execute("INSERT INTO marts.at_risk_matches SELECT * FROM held")
        con.execute("DROP TABLE held")
    weekly = _build(con, tmp_path).digest

    assert weekly.compared_with == week_ago
    program = next(p for p in weekly.programs if p.program == risky[1])
    assert [row["match_id"] for row in program.new_at_risk] == [risky[0]]
    assert all(not p.new_at_risk for p in weekly.programs if p.program != risky[1])
    assert all(not p.new_overdue for p in weekly.programs)
    assert program.figures["at_risk_pairs"] == program.previous["at_risk_pairs"] + 1

    folder = tmp_path / "digest" / next(s for s, p in PROGRAMS.items() if p == risky[1])
    page = (folder / "latest.html").read_text()
    assert page == (folder / f"digest-{AS_OF.isoformat()}.html").read_text()
    assert f"Changes since the digest of <strong>{week_ago.isoformat()}</strong>" in page
    assert "▲ +1" in page and "worse" in page
    assert html.escape(program.new_at_risk[0]["mentor_name"]) in page
    assert "<script" not in page and "src=" not in page  # self-contained, nothing loaded


def test_previous_state_is_the_newest_a_week_old_else_the_oldest_before(tmp_path):
    def save(day: dt.date) -> None:
        (tmp_path / f"state-{day.isoformat()}.json").write_text(
            json.dumps({"as_of": day.isoformat()})
        )

    assert digest.previous_state(tmp_path, AS_OF) is None
    save(AS_OF)  # the digest of D itself is never its own comparison
    save(AS_OF - dt.timedelta(days=2))
    save(AS_OF - dt.timedelta(days=5))
    assert digest.previous_state(tmp_path, AS_OF)["as_of"] == "2026-03-10"
    save(AS_OF - dt.timedelta(days=7))
    save(AS_OF - dt.timedelta(days=9))
    assert digest.previous_state(tmp_path, AS_OF)["as_of"] == "2026-03-08"


def test_digest_settings_parse_recipients_per_program_and_name_bad_values():
    settings = load_settings(
        {
            "MENTORPULSE_SMTP_HOST": "127.0.0.1",
            "MENTORPULSE_SMTP_FROM": "pulse@example.org",
            "MENTORPULSE_SMTP_STARTTLS": "yes",
            "MENTORPULSE_SMTP_PASSWORD": "s3cret",
            "MENTORPULSE_DIGEST_RECIPIENTS": "Liderança & Growth=a@x.org, b@x.org ;*=c@x.org;",
        }
    )
    assert settings.digest_recipients == (
        ("Liderança & Growth", ("a@x.org", "b@x.org")),
        ("*", ("c@x.org",)),
    )
    assert settings.smtp_starttls and settings.smtp_port == 25
    assert "s3cret" not in repr(settings)
    with pytest.raises(SettingsError, match="MENTORPULSE_DIGEST_RECIPIENTS: 'Engineering'"):
        load_settings({"MENTORPULSE_DIGEST_RECIPIENTS": "Engineering"})
    with pytest.raises(SettingsError, match="MENTORPULSE_SMTP_FROM"):
        load_settings({"MENTORPULSE_SMTP_HOST": "mail.example.org"})
