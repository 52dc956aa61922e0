"""The seeded sample-data generator: formats, realism, deliberate defects, determinism, memory."""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import re
import statistics
import tracemalloc
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from sample_data.generator import (
    DEFAULT_END_DATE,
    PROFILES,
    GenerationSummary,
    Profile,
    generate,
    generate_day,
)

KINDS = ("participants", "matches", "meetings", "goals", "invitations", "responses")
FILE_NAME = re.compile(
    r"^(?P<kind>participants|matches|meetings|goals|invitations|responses)"
    r"_(?P<date>\d{4}-\d{2}-\d{2})(?P<resend>_resend)?\.(csv|jsonl)$"
)
MEETING_TYPES = {"scheduled", "rescheduled", "completed", "cancelled", "no_show"}
GOAL_TYPES = {"set", "progress", "achieved", "abandoned"}
CHANNELS = {"video", "in_person", "phone", "chat"}
ITEMS = ("guidance", "networking", "skills", "feedback", "communication", "satisfaction")
END_REASONS = {"completed", "mentor_withdrew", "mentee_withdrew", "no_engagement", "rematched"}


# --- reading landing files ---


def landing_files(landing: Path, kind: str | None = None) -> list[Path]:
    """Landed files in name order (hidden and in-flight names excluded)."""
    paths = [p for p in landing.rglob("*") if p.is_file() and not p.name.startswith(".")]
    if kind:
        paths = [p for p in paths if p.name.startswith(f"{kind}_")]
    return sorted(paths, key=lambda p: p.name)


def jsonl_records(path: Path) -> list[tuple[str, dict | None]]:
    """(line, parsed object or None when the line is not a JSON object)."""
    records = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        records.append((line, record if isinstance(record, dict) else None))
    return records


def csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def csv_dicts(path: Path) -> list[dict[str, str]]:
    header, rows = csv_rows(path)
    return [dict(zip(header, row, strict=True)) for row in rows if len(row) == len(header)]


def timestamp(text: str) -> datetime.datetime:
    """An ISO-8601 timestamp in UTC; one without offset is read as UTC (the default zone)."""
    value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC)


def latest_rows(landing: Path, kind: str, key: str) -> dict[str, dict[str, str]]:
    """Roster rows, a later file's row replacing the earlier one."""
    rows = {}
    for path in landing_files(landing, kind):
        for row in csv_dicts(path):
            rows[row[key]] = row
    return rows


def meeting_problem(record: dict | None) -> str | None:
    """Why a meeting event breaks DATA_CONTRACT.md, or None when it is fine."""
    if record is None:
        return "malformed"
    for name in ("event_id", "meeting_id", "match_id", "event_type", "occurred_at"):
        if not isinstance(record.get(name), str):
            return f"missing_field:{name}"
    if record["event_type"] not in MEETING_TYPES:
        return "bad_value:event_type"
    needs_start = record["event_type"] in ("scheduled", "rescheduled", "completed")
    if needs_start and "scheduled_start" not in record:
        return "missing_field:scheduled_start"
    duration = record.get("duration_minutes")
    if duration is not None and not (isinstance(duration, int) and 1 <= duration <= 480):
        return "bad_type:duration_minutes"
    if record["event_type"] == "completed" and duration is None:
        return "missing_field:duration_minutes"
    if record.get("channel", "video") not in CHANNELS:
        return "bad_value:channel"
    return None


def valid_meeting_events(landing: Path) -> list[dict]:
    """Contract-valid meeting events of every file but the byte-identical re-send."""
    return [
        record
        for path in landing_files(landing, "meetings")
        if "_resend" not in path.name
        for _, record in jsonl_records(path)
        if meeting_problem(record) is None
    ]


def held_meeting_days(landing: Path) -> dict[str, list[datetime.date]]:
    """match_id -> dates of held meetings: the fold of METRICS.md (last event wins)."""
    by_meeting = defaultdict(list)
    for record in valid_meeting_events(landing):
        by_meeting[record["meeting_id"]].append(record)
    held = defaultdict(list)
    for events in by_meeting.values():
        events.sort(key=lambda e: (timestamp(e["occurred_at"]), e["event_id"]))
        starts = [e["scheduled_start"] for e in events if "scheduled_start" in e]
        if events[-1]["event_type"] == "completed" and starts:
            held[events[-1]["match_id"]].append(timestamp(starts[-1]).date())
    return held


def file_digests(landing: Path) -> dict[str, str]:
    return {
        str(path.relative_to(landing)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in landing_files(landing)
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    landing = tmp_path_factory.mktemp("demo") / "landing"
    return landing, generate(landing, "demo")


# --- API and determinism ---


def test_profiles_have_the_documented_sizes():
    assert {name: (p.matches, p.months) for name, p in PROFILES.items()} == {
        "demo": (400, 12),
        "small": (150, 6),
        "medium": (5_000, 18),
        "large": (50_000, 36),
    }
    with pytest.raises(ValueError, match="unknown profile"):
        generate(Path("unused"), "huge")


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path):
    first = file_digests(_generated(tmp_path / "a", seed=7))
    again = file_digests(_generated(tmp_path / "b", seed=7))
    other = file_digests(_generated(tmp_path / "c", seed=8))
    assert first == again
    assert first != other
    assert sum(first.get(name) == digest for name, digest in other.items()) < len(other) / 2


def _generated(landing: Path, seed: int) -> Path:
    generate(landing, "small", seed=seed)
    return landing


def test_summary_counts_what_was_written(demo):
    landing, summary = demo
    assert summary.end_date == DEFAULT_END_DATE
    assert list(summary.counts) == list(KINDS)
    for kind in KINDS:
        paths = landing_files(landing, kind)
        if kind in ("meetings", "goals"):
            records = sum(len(jsonl_records(p)) for p in paths)
        else:
            records = sum(len(csv_rows(p)[1]) for p in paths)
        assert (summary.counts[kind].files, summary.counts[kind].records) == (len(paths), records)
    text = str(summary)
    assert "meetings" in text and "deliberately bad records" in text and "2026-11-20" in text


def test_progress_reports_one_line_per_month(tmp_path: Path):
    lines: list[str] = []
    generate(tmp_path, "small", progress=lines.append)
    assert len(lines) == 6
    assert re.match(r"^2026-06: [\d,]+ meeting events, [\d,]+ goal events", lines[0])


# --- files and layout ---


def test_every_kind_of_file_is_written_with_sortable_dated_names(demo):
    landing, _ = demo
    folders = {"participants": "roster", "matches": "roster", "meetings": "meetings"}
    folders |= {"goals": "goals", "invitations": "surveys", "responses": "surveys"}
    paths = landing_files(landing)
    assert not [p for p in landing.rglob("*.part")]
    for path in paths:
        match = FILE_NAME.match(path.name)
        assert match, path.name
        assert path.parent.name == folders[match["kind"]]
        assert match["date"] <= "2026-11-20"
    kinds = Counter(FILE_NAME.match(p.name)["kind"] for p in paths)
    assert set(kinds) == set(KINDS)
    assert kinds["meetings"] >= 12 and kinds["matches"] >= 12  # monthly, plus roster changes


def test_events_inside_each_file_are_in_time_order(demo):
    landing, _ = demo
    for path in landing_files(landing, "meetings") + landing_files(landing, "goals"):
        times = [
            timestamp(record["occurred_at"])
            for _, record in jsonl_records(path)
            if record and isinstance(record.get("occurred_at"), str)
        ]
        assert times == sorted(times), path.name
    for path in landing_files(landing, "responses"):
        times = [timestamp(row["submitted_at"]) for row in csv_dicts(path) if row["submitted_at"]]
        assert times == sorted(times), path.name


def test_one_file_starts_with_a_bom_and_one_is_resent_byte_for_byte(demo):
    landing, summary = demo
    with_bom = [p for p in landing_files(landing) if p.read_bytes().startswith(b"\xef\xbb\xbf")]
    assert len(with_bom) == 1 == summary.bom_files
    assert csv_rows(with_bom[0])[0][0] == "response_id"  # readable once the BOM is skipped
    resent = [p for p in landing_files(landing) if "_resend" in p.name]
    assert len(resent) == 1 == summary.duplicate_files
    original = resent[0].with_name(resent[0].name.replace("_resend", ""))
    assert resent[0].read_bytes() == original.read_bytes()


# --- roster ---


def test_roster_is_consistent_and_varied(demo):
    landing, _ = demo
    matches = latest_rows(landing, "matches", "match_id")
    people = latest_rows(landing, "participants", "participant_id")
    assert {m["program"] for m in matches.values()} >= {
        "Engineering Mentoring",
        "Women in Leadership",
        "New Manager Circle",
    }
    assert all(
        re.match(r"^\d{4}-(Winter|Spring|Summer|Autumn)$", m["cohort"]) for m in matches.values()
    )
    assert len({(m["program"], m["cohort"]) for m in matches.values()}) >= 6
    for match in matches.values():
        assert match["mentor_id"] != match["mentee_id"]
        assert match["mentor_id"] in people and match["mentee_id"] in people
        assert match["target_meetings_per_month"] in {"", "1", "2", "3", "4"}
        if match["ended_on"]:
            assert match["ended_on"] >= match["matched_on"]
    ended = Counter(m["end_reason"] for m in matches.values() if m["ended_on"])
    assert set(ended) >= END_REASONS
    assert sum(not m["ended_on"] for m in matches.values()) > len(matches) / 3
    mentees_per_mentor = Counter(m["mentor_id"] for m in matches.values())
    assert max(mentees_per_mentor.values()) >= 3 and min(mentees_per_mentor.values()) == 1
    assert {"", "1", "2", "3", "4"} <= {m["target_meetings_per_month"] for m in matches.values()}


def test_participants_have_international_names_and_updates(demo):
    landing, _ = demo
    people = latest_rows(landing, "participants", "participant_id")
    names = [p["full_name"] for p in people.values()]
    assert any(re.search(r"[éøåüł]", name) for name in names)
    assert any(re.search(r"[\u4e00-\u9fff]", name) for name in names)  # e.g. 李
    emails = [p["email"] for p in people.values() if p["email"]]
    assert all(re.match(r"^[a-z\-]+\.[a-z\-]+\d*@example\.com$", e) for e in emails), emails[:5]
    assert len(set(emails)) == len(emails)
    assert {p["department"] for p in people.values()} >= {"Engineering", "Finance", "People"}
    departments = defaultdict(set)  # a later roster file can move a person
    for path in landing_files(landing, "participants"):
        for row in csv_dicts(path):
            departments[row["participant_id"]].add(row["department"])
    assert any(len(values) > 1 for values in departments.values())


# --- meetings ---


def test_meetings_refer_to_roster_matches_but_a_few_do_not(demo):
    landing, _ = demo
    matches = latest_rows(landing, "matches", "match_id")
    events = valid_meeting_events(landing)
    unknown = [e for e in events if e["match_id"] not in matches]
    assert 0 < len(unknown) < 0.01 * len(events)


def test_meeting_events_tell_realistic_stories(demo):
    landing, _ = demo
    events = valid_meeting_events(landing)
    assert {e["event_type"] for e in events} == MEETING_TYPES
    completed = [e for e in events if e["event_type"] == "completed"]
    assert all(timestamp(e["occurred_at"]) > timestamp(e["scheduled_start"]) for e in completed)
    same_day = [
        e
        for e in events
        if e["event_type"] == "scheduled"
        and timestamp(e["occurred_at"]).date() == timestamp(e["scheduled_start"]).date()
    ]
    assert same_day
    assert any("note" in e for e in completed) and any("topics" in e for e in completed)
    assert {e.get("initiated_by") for e in events} >= {"mentor", "mentee"}
    endings = Counter(e["occurred_at"][19:] for e in events)  # Z, .mmmZ, +hh:mm or nothing
    assert endings["Z"] > len(events) / 2
    assert any(re.match(r"^[+-]\d\d:\d\d$", suffix) for suffix in endings)
    assert 0 < endings[""] < len(events) / 10


def test_engagement_archetypes_are_all_present(demo):
    landing, _ = demo
    matches = latest_rows(landing, "matches", "match_id")
    held = held_meeting_days(landing)
    as_of = DEFAULT_END_DATE
    settled = [
        m for m in matches.values() if m["matched_on"] <= str(as_of - datetime.timedelta(60))
    ]
    never_met = [m for m in settled if not held.get(m["match_id"])]
    steady = [m for m in settled if len(held.get(m["match_id"], [])) >= 8]
    lapsed = [
        m
        for m in settled
        if not m["ended_on"]
        and held.get(m["match_id"])
        and (as_of - max(held[m["match_id"]])).days > 60
    ]
    assert never_met and steady and lapsed
    assert len(never_met) < len(steady)


# --- goals ---


def test_goals_are_set_progressed_achieved_abandoned_and_reset(demo):
    landing, _ = demo
    events = [
        record
        for path in landing_files(landing, "goals")
        for _, record in jsonl_records(path)
        if record and record.get("event_type") in GOAL_TYPES and record.get("goal_id")
    ]
    assert {e["event_type"] for e in events} == GOAL_TYPES
    sets = [e for e in events if e["event_type"] == "set" and e.get("title")]
    assert {e["horizon"] for e in sets} == {"short_term", "long_term"}
    assert any("category" not in e for e in sets)  # defaults to other
    assert any("target_date" not in e or "measure" not in e for e in sets)  # not SMART
    assert any("target_date" in e and "measure" in e for e in sets)
    assert max(Counter(e["goal_id"] for e in sets).values()) >= 2  # a goal set again
    last_event = {}
    for event in sorted(events, key=lambda e: (timestamp(e["occurred_at"]), e["event_id"])):
        last_event[event["goal_id"]] = event
    target = {e["goal_id"]: e.get("target_date") for e in sets}
    overdue = [
        goal
        for goal, event in last_event.items()
        if event["event_type"] in ("set", "progress")
        and (target.get(goal) or "9999") < "2026-11-20"
    ]
    assert overdue


# --- surveys ---


def test_surveys_have_waves_rates_resubmissions_and_quoted_comments(demo):
    landing, _ = demo
    invitations = [row for p in landing_files(landing, "invitations") for row in csv_dicts(p)]
    responses = [row for p in landing_files(landing, "responses") for row in csv_dicts(p)]
    assert {r["instrument"] for r in responses} == {"intake", "checkin", "closing"}
    assert any(re.match(r"^checkin-\d{4}-\d{2}$", r["survey_id"]) for r in responses)
    invited = {(i["survey_id"], i["participant_id"], i["match_id"]) for i in invitations}
    answered = {(r["survey_id"], r["respondent_id"], r["match_id"]) for r in responses}
    assert 0.5 <= len(invited & answered) / len(invited) <= 0.85
    per_key = Counter((r["survey_id"], r["respondent_id"], r["match_id"]) for r in responses)
    assert any(count > 1 for count in per_key.values())  # resubmissions
    comments = [r["comment"] for r in responses if r["comment"]]
    assert any("\n" in c for c in comments) and any('"' in c for c in comments)
    assert any("," in c for c in comments)
    assert any(r["satisfaction"] == "" for r in responses)
    assert {r["nps"] for r in responses} >= {"", *map(str, range(11))}


def test_pairs_that_meet_more_are_happier(demo):
    landing, _ = demo
    held = held_meeting_days(landing)
    scores = defaultdict(list)
    for path in landing_files(landing, "responses"):
        for row in csv_dicts(path):
            if row["instrument"] == "checkin" and row["satisfaction"] in ("1", "2", "3", "4", "5"):
                busy = len(held.get(row["match_id"], [])) >= 6
                scores[busy].append(int(row["satisfaction"]))
    assert statistics.mean(scores[True]) > statistics.mean(scores[False]) + 0.2


# --- outcomes: endings, intake and closing, pairings ---


def test_early_closures_of_every_reason_follow_low_cadence_more_often_than_not(demo):
    landing, _ = demo
    matches = latest_rows(landing, "matches", "match_id")
    held = held_meeting_days(landing)
    early = {
        m["match_id"]: m
        for m in matches.values()
        if m["ended_on"] and m["end_reason"] != "completed"
    }
    assert {m["end_reason"] for m in early.values()} == (END_REASONS - {"completed"}) | {
        "other",
        "",  # recorded without a reason
    }

    def attainment(match: dict[str, str]) -> float:
        start = datetime.date.fromisoformat(match["matched_on"])
        end = datetime.date.fromisoformat(match["ended_on"])
        months = max((end - start).days, 14) / 30.4375
        target = float(match["target_meetings_per_month"] or 2)
        return min(len(held.get(match["match_id"], [])) / months / target, 1)

    low = [m for m in early.values() if attainment(m) < 0.5]
    assert len(low) > len(early) / 2
    completed = [m for m in matches.values() if m["end_reason"] == "completed"]
    assert statistics.mean(map(attainment, completed)) > statistics.mean(
        map(attainment, early.values())
    )


def test_intake_and_closing_answers_pair_up_per_person_and_match(demo):
    landing, _ = demo
    responses = [row for p in landing_files(landing, "responses") for row in csv_dicts(p)]
    first_intake, last_closing = {}, {}
    for r in responses:
        try:
            key, at = (r["respondent_id"], r["match_id"]), timestamp(r["submitted_at"])
        except ValueError:  # a deliberately bad record
            continue
        if r["instrument"] == "intake":
            first_intake[key] = min(at, first_intake.get(key, at))
        elif r["instrument"] == "closing":
            last_closing[key] = max(at, last_closing.get(key, at))
    pairs = [
        k for k in first_intake.keys() & last_closing.keys() if first_intake[k] < last_closing[k]
    ]
    matches = latest_rows(landing, "matches", "match_id")
    per_program = Counter(matches[match]["program"] for _, match in pairs if match in matches)
    assert len(per_program) == 3 and min(per_program.values()) >= 10


def test_pairings_differ_and_how_they_differ_goes_with_how_they_last(demo):
    landing, summary = demo
    matches = latest_rows(landing, "matches", "match_id")
    people = latest_rows(landing, "participants", "participant_id")
    held = held_meeting_days(landing)
    by_pairing = defaultdict(list)  # (attribute, same?) -> meetings a month of each match
    for m in matches.values():
        start = datetime.date.fromisoformat(m["matched_on"])
        end = datetime.date.fromisoformat(m["ended_on"] or summary.end_date.isoformat())
        if (end - start).days < 30:
            continue
        pace = len(held.get(m["match_id"], [])) / ((end - start).days / 30.4375)
        mentor, mentee = people[m["mentor_id"]], people[m["mentee_id"]]
        for attribute in ("department", "location"):
            if mentor[attribute] and mentee[attribute]:
                by_pairing[attribute, mentor[attribute] == mentee[attribute]].append(pace)
    for attribute in ("department", "location"):
        same, different = by_pairing[attribute, True], by_pairing[attribute, False]
        assert len(same) >= 30 and len(different) >= 30
        assert statistics.mean(same) > statistics.mean(different)
    # mentors with several mentees at once
    spans = defaultdict(list)
    for m in matches.values():
        spans[m["mentor_id"]].append((m["matched_on"], m["ended_on"] or "9999-12-31"))
    concurrent = [
        mentor
        for mentor, own in spans.items()
        if any(a[0] <= b[0] < a[1] for a in own for b in own if a is not b)
    ]
    assert len(concurrent) >= 10


# --- deliberately bad records ---


def test_a_small_share_of_records_is_bad_on_purpose(demo):
    landing, summary = demo
    share = summary.bad_records / summary.total_records
    assert 0.004 <= share <= 0.012
    assert set(summary.bad_records_by_reason) == {
        "malformed",
        "missing_field",
        "bad_type",
        "bad_value",
        "exact_duplicate",
        "conflicting_duplicate",
        "unknown_match",
    }
    problems = Counter()
    lines = 0
    for path in landing_files(landing, "meetings"):
        for _, record in jsonl_records(path):
            lines += 1
            problems[meeting_problem(record)] += 1
    bad = lines - problems[None]
    assert problems["malformed"] > 0 and problems["bad_value:channel"] > 0
    assert 0.001 * lines < bad < 0.02 * lines
    meeting_text = "".join(
        p.read_text(encoding="utf-8-sig") for p in landing_files(landing, "meetings")
    )
    assert (
        '"duration_minutes":"forty"' in meeting_text
        or '"duration_minutes":"45 min"' in meeting_text
    )


def test_survey_answers_out_of_range_and_malformed_rows_exist(demo):
    landing, _ = demo
    out_of_range = bad_nps = wrong_width = 0
    for path in landing_files(landing, "responses"):
        header, rows = csv_rows(path)
        for row in rows:
            if len(row) != len(header):
                wrong_width += 1
                continue
            answers = dict(zip(header, row, strict=True))
            bad_items = [
                answers[i] for i in ITEMS if answers[i] not in ("", "1", "2", "3", "4", "5")
            ]
            out_of_range += bool(bad_items)
            bad_nps += answers["nps"] not in ("", *map(str, range(11)))
    assert out_of_range > 0 and bad_nps > 0 and wrong_width > 0


def test_duplicate_events_are_redelivered_later_some_with_other_content(demo):
    landing, _ = demo
    first_seen: dict[str, tuple[str, str]] = {}
    exact, conflicting = 0, 0
    for path in landing_files(landing, "meetings") + landing_files(landing, "goals"):
        if "_resend" in path.name:
            continue
        for line, record in jsonl_records(path):
            if not record or not isinstance(record.get("event_id"), str):
                continue
            seen = first_seen.setdefault(record["event_id"], (path.name, line))
            if seen[0] != path.name:  # only in a later file
                exact += seen[1] == line
                conflicting += seen[1] != line
    assert exact > 0 and conflicting > 0


# --- one more day ---


def test_generate_day_adds_clean_new_events_after_the_history(tmp_path: Path):
    history = generate(tmp_path, "small")
    ids = {
        record["event_id"]
        for path in landing_files(tmp_path, "meetings") + landing_files(tmp_path, "goals")
        for _, record in jsonl_records(path)
        if record and isinstance(record.get("event_id"), str)
    }
    day = history.end_date + datetime.timedelta(days=3)  # a Monday: a busy day
    summary = generate_day(tmp_path, day, "small")
    new_files = [p for p in landing_files(tmp_path) if day.isoformat() in p.name]
    # Meetings happen every working day; goal events and survey answers only on some days.
    kinds = {FILE_NAME.match(p.name)["kind"] for p in new_files}
    assert "meetings" in kinds and kinds <= set(KINDS)
    assert summary.bad_records == 0 and summary.end_date == day
    new_events = [r for p in new_files if p.suffix == ".jsonl" for _, r in jsonl_records(p)]
    assert summary.counts["meetings"].records > 5
    assert all(meeting_problem(r) is None for r in new_events if r and "meeting_id" in r)
    assert all(timestamp(r["occurred_at"]).date() == day for r in new_events)
    new_ids = [r["event_id"] for r in new_events]
    assert len(new_ids) == len(set(new_ids)) and not ids & set(new_ids)
    with pytest.raises(ValueError, match="inside the history"):
        generate_day(tmp_path, history.end_date, "small")
    with pytest.raises(ValueError, match="seed"):
        generate_day(tmp_path, day, "small", seed=8)


def test_generate_day_continues_the_same_world(tmp_path: Path):
    """A day landed after a history holds the events a longer history has on that day."""
    end = datetime.date(2026, 11, 16)
    day = end + datetime.timedelta(days=1)
    generate(tmp_path / "short", "small", end_date=end)
    generate_day(tmp_path / "short", day, "small")
    generate(tmp_path / "long", "small", end_date=day)

    def events_on(landing: Path) -> set[str]:
        return {
            line
            for path in landing_files(landing, "meetings")
            for line, record in jsonl_records(path)
            if meeting_problem(record) is None and record["occurred_at"].startswith(str(day))
        }

    landed, longer = events_on(tmp_path / "short"), events_on(tmp_path / "long")
    assert landed
    assert len(landed & longer) >= 0.95 * len(landed)  # the longer one spoiled a few


# --- streaming ---


def test_memory_does_not_grow_with_the_length_of_the_history(tmp_path: Path, monkeypatch):
    """Three times the months and matches (about the same matches a month): the peak of
    traced memory stays far below the data written, and nearly flat."""
    monkeypatch.setitem(PROFILES, "short-check", Profile("short-check", 400, 6))
    monkeypatch.setitem(PROFILES, "long-check", Profile("long-check", 1_200, 18))
    results = {}
    for name in ("short-check", "long-check"):
        landing = tmp_path / name
        tracemalloc.start()
        try:
            summary = generate(landing, name)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        written = sum(p.stat().st_size for p in landing_files(landing))
        results[name] = (summary.total_records, written, peak)
    short_records, _, short_peak = results["short-check"]
    long_records, long_written, long_peak = results["long-check"]
    assert long_records > 4 * short_records
    assert long_peak < 2.5 * short_peak
    assert long_peak < long_written / 2
    assert long_peak < 50 * 2**20
