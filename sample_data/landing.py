"""Landing files: events bucketed by month, written file by file, a few spoiled on purpose."""

from __future__ import annotations

import csv
import json
import os
import random
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from operator import itemgetter
from pathlib import Path

from sample_data.clock import DAY, date_text, month_key_of_day

ROSTER_KINDS = ("participants", "matches")
EVENT_KINDS = ("meetings", "goals", "invitations", "responses")
ALL_KINDS = ROSTER_KINDS + EVENT_KINDS
JSON_KINDS = frozenset({"meetings", "goals"})
FOLDERS = {
    "participants": "roster",
    "matches": "roster",
    "meetings": "meetings",
    "goals": "goals",
    "invitations": "surveys",
    "responses": "surveys",
}
CSV_HEADERS = {
    "participants": ("participant_id", "full_name", "email", "department", "location", "joined_on"),
    "matches": (
        "match_id",
        "program",
        "cohort",
        "mentor_id",
        "mentee_id",
        "matched_on",
        "ended_on",
        "end_reason",
        "target_meetings_per_month",
    ),
    "invitations": ("survey_id", "participant_id", "match_id", "role", "sent_at"),
    "responses": (
        "response_id",
        "survey_id",
        "instrument",
        "respondent_id",
        "match_id",
        "role",
        "submitted_at",
        "guidance",
        "networking",
        "skills",
        "feedback",
        "communication",
        "satisfaction",
        "nps",
        "comment",
    ),
}
ITEM_COLUMNS = CSV_HEADERS["responses"][7:13]

Record = tuple[int, str]  # (second it happened, JSON or CSV line)
_NEEDS_QUOTES = re.compile(r'[",\r\n]')


def to_json_line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def to_csv_line(fields: Iterable) -> str:
    """One RFC 4180 record, quoted as csv.QUOTE_MINIMAL would (a line break may be inside).

    Events wait a month in memory before they are written: one string per record is
    several times smaller than a tuple of field strings.
    """
    return ",".join(_quoted(str(field)) for field in fields)


def _quoted(text: str) -> str:
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


@cache  # a history spans a few thousand days at most
def _month_key(day: int) -> int:
    return month_key_of_day(day)


class MonthBuckets:
    """Collects emitted events by (kind, calendar month), keeping only those in the window."""

    def __init__(self, first_day: int, last_day: int):
        self.start = first_day * DAY
        self.end = (last_day + 1) * DAY
        self._buckets: dict[tuple[str, int], list[Record]] = defaultdict(list)

    def emit(self, kind: str, at: int, record: dict | tuple) -> None:
        if self.start <= at < self.end:
            payload = to_json_line(record) if kind in JSON_KINDS else to_csv_line(record)
            self._buckets[kind, _month_key(at // DAY)].append((at, payload))

    def take(self, kind: str, month_key: int) -> list[Record]:
        """The month's events in time order (stable: ties keep their emission order)."""
        records = self._buckets.pop((kind, month_key), [])
        records.sort(key=itemgetter(0))
        return records


def file_name(kind: str, day: int, suffix: str = "") -> str:
    extension = "jsonl" if kind in JSON_KINDS else "csv"
    return f"{kind}_{date_text(day)}{suffix}.{extension}"


class LandingWriter:
    """Writes landing files the way the contract asks: to a hidden .part name, then renamed."""

    def __init__(self, landing_dir: Path):
        self.landing_dir = landing_dir
        self.files: Counter[str] = Counter()
        self.records: Counter[str] = Counter()
        for folder in set(FOLDERS.values()):
            (landing_dir / folder).mkdir(parents=True, exist_ok=True)

    def write(self, kind: str, day: int, lines: Iterable[str], bom: bool = False) -> Path:
        """Write one file of JSON or CSV lines (CSV gets its header row first)."""
        path = self.landing_dir / FOLDERS[kind] / file_name(kind, day)
        temporary = path.with_name(f".{path.name}.part")
        count = 0
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            if bom:
                handle.write("\ufeff")  # as spreadsheet exports do
            if kind not in JSON_KINDS:
                handle.write(to_csv_line(CSV_HEADERS[kind]) + "\n")
            for line in lines:
                handle.write(line)
                handle.write("\n")
                count += 1
        os.replace(temporary, path)
        self.files[kind] += 1
        self.records[kind] += count
        return path

    def resend(self, kind: str, original: Path, records: int) -> Path:
        """A byte-identical copy under another name: a feed that delivered a file twice."""
        copy = original.with_name(f"{original.stem}_resend{original.suffix}")
        temporary = copy.with_name(f".{copy.name}.part")
        shutil.copyfile(original, temporary)
        os.replace(temporary, copy)
        self.files[kind] += 1
        self.records[kind] += records
        return copy


# --- deliberately bad records ---


class Raw:
    """A record that no longer parses as one (truncated JSON, wrong CSV field count)."""

    def __init__(self, payload: str | list[str]):
        self.payload = payload


# A spoiler turns a good record into (how, record) or None when it does not apply:
# "replace" writes the bad record instead of the good one, "extra" writes both,
# "later" writes the good one now and the other in the kind's next file.
Spoiler = Callable[[dict, random.Random], tuple[str, dict | Raw] | None]


def _truncate(record: dict, rng: random.Random) -> tuple[str, Raw]:
    line = to_json_line(record)
    return "replace", Raw(line[: rng.randint(10, len(line) - 2)])


def _extra_field(record: dict, rng: random.Random) -> tuple[str, Raw]:
    return "replace", Raw([*record.values(), rng.choice(("n/a", "see attached"))])


def _short_row(record: dict, rng: random.Random) -> tuple[str, Raw]:
    return "replace", Raw(list(record.values())[:-1])


def _drop_one_of(*names: str) -> Spoiler:
    def spoil(record: dict, rng: random.Random):
        present = [name for name in names if record.get(name) not in (None, "")]
        if not present:
            return None
        spoiled = dict(record)
        del spoiled[rng.choice(present)]  # CSV writes a missing column as a blank cell
        return "replace", spoiled

    return spoil


def _set_one_of(bad_values: dict[str, Sequence]) -> Spoiler:
    """Give one of the present fields a value of the wrong type or out of its range."""

    def spoil(record: dict, rng: random.Random):
        present = [name for name in bad_values if record.get(name) not in (None, "")]
        if not present:
            return None
        name = rng.choice(present)
        return "replace", {**record, name: rng.choice(bad_values[name])}

    return spoil


def _redeliver(record: dict, rng: random.Random) -> tuple[str, dict]:
    return "later", dict(record)


def _conflicting(record: dict, rng: random.Random):
    """Same event_id, different content: an upstream system re-sent an edited event."""
    if isinstance(record.get("duration_minutes"), int):
        return "later", {**record, "duration_minutes": record["duration_minutes"] + 15}
    if isinstance(record.get("progress_pct"), int | float):
        progress = record["progress_pct"]
        return "later", {**record, "progress_pct": progress + 5 if progress <= 95 else progress - 5}
    if "title" in record:
        return "later", {**record, "title": record["title"] + " (edited)"}
    return None


def _unknown_match(record: dict, rng: random.Random) -> tuple[str, dict]:
    """A copy about a match the roster does not know (one extra digit in the id)."""
    known = record["match_id"]
    unknown = known.replace("M", "M9", 1)
    return "extra", {
        k: v.replace(known, unknown) if isinstance(v, str) else v for k, v in record.items()
    }


# Required fields that go missing, and wrong values, per kind (see DATA_CONTRACT.md).
_drop_meeting_field = _drop_one_of("match_id", "occurred_at", "event_type", "meeting_id")
_spell_duration = _set_one_of({"duration_minutes": ("forty", "45 min", "1h")})
_odd_channel = _set_one_of({"channel": ("Video", "zoom", "Teams", "in person")})
_drop_goal_field = _drop_one_of("title", "goal_id", "match_id")
_spell_progress = _set_one_of({"progress_pct": ("half", "40%")})
_goal_out_of_range = _set_one_of(
    {"horizon": ("Short term", "quarterly"), "progress_pct": (150, -10)}
)
_drop_invitation_field = _drop_one_of("participant_id", "sent_at")
_odd_invited_role = _set_one_of({"role": ("coach", "Mentor")})
_drop_response_field = _drop_one_of("respondent_id", "submitted_at")
_spell_item = _set_one_of(dict.fromkeys(ITEM_COLUMNS, ("four", "N/A")))
_item_out_of_range = _set_one_of(dict.fromkeys(ITEM_COLUMNS, ("7", "-1", "0", "6")))
_nps_out_of_range = _set_one_of({"nps": ("11", "-1")})
_odd_responding_role = _set_one_of({"role": ("Mentee",)})

MENUS: dict[str, tuple[tuple[str, float, Spoiler], ...]] = {
    "meetings": (
        ("malformed", 3, _truncate),
        ("missing_field", 2, _drop_meeting_field),
        ("bad_type", 2, _spell_duration),
        ("bad_value", 2, _odd_channel),
        ("exact_duplicate", 2, _redeliver),
        ("conflicting_duplicate", 1, _conflicting),
        ("unknown_match", 2, _unknown_match),
    ),
    "goals": (
        ("malformed", 2, _truncate),
        ("missing_field", 2, _drop_goal_field),
        ("bad_type", 1, _spell_progress),
        ("bad_value", 2, _goal_out_of_range),
        ("exact_duplicate", 2, _redeliver),
        ("conflicting_duplicate", 1, _conflicting),
        ("unknown_match", 1, _unknown_match),
    ),
    "invitations": (
        ("malformed", 1, _short_row),
        ("missing_field", 2, _drop_invitation_field),
        ("bad_value", 1, _odd_invited_role),
        ("exact_duplicate", 2, _redeliver),
        ("unknown_match", 1, _unknown_match),
    ),
    "responses": (
        ("malformed", 1, _extra_field),
        ("missing_field", 1, _drop_response_field),
        ("bad_type", 1, _spell_item),
        ("bad_value", 2, _item_out_of_range),
        ("bad_value", 1.5, _nps_out_of_range),
        ("bad_value", 0.5, _odd_responding_role),
        ("exact_duplicate", 1, _redeliver),
        ("unknown_match", 1, _unknown_match),
    ),
}


class BadRecords:
    """Spoils a small share of the records of each file, the ways real feeds do."""

    def __init__(self, seed: int, share: float):
        self.seed = seed
        self.share = share
        self.counts: Counter[str] = Counter()
        self._next_file: dict[str, list[tuple[int, object, str]]] = defaultdict(list)

    def apply(self, kind: str, day: int, records: list[Record]) -> list[Record]:
        rng = random.Random(f"{self.seed}|bad|{kind}|{day}")
        reasons, weights, spoilers = zip(*MENUS[kind], strict=True)
        output: list[Record] = []
        for at, payload, reason in self._next_file.pop(kind, []):
            output.append((at, payload))
            self.counts[reason] += 1
        for at, payload in records:
            if rng.random() >= self.share:
                output.append((at, payload))
                continue
            choice = rng.choices(range(len(reasons)), weights)[0]
            outcome = spoilers[choice](_decode(kind, payload), rng)
            if outcome is None:  # that spoiler does not fit this record
                output.append((at, payload))
                continue
            how, spoiled = outcome
            spoiled_payload = _encode(kind, spoiled)
            if how == "later":
                output.append((at, payload))
                self._next_file[kind].append((at, spoiled_payload, reasons[choice]))
                continue
            if how == "extra":
                output.append((at, payload))
            output.append((at, spoiled_payload))
            self.counts[reasons[choice]] += 1
        output.sort(key=itemgetter(0))  # re-deliveries are older: they go first
        return output


def _decode(kind: str, line: str) -> dict:
    if kind in JSON_KINDS:
        return json.loads(line)
    return dict(zip(CSV_HEADERS[kind], next(csv.reader([line])), strict=True))


def _encode(kind: str, record: dict | Raw) -> str:
    if isinstance(record, Raw):
        payload = record.payload
        return payload if isinstance(payload, str) else to_csv_line(payload)
    if kind in JSON_KINDS:
        return to_json_line(record)
    return to_csv_line(record.get(column, "") for column in CSV_HEADERS[kind])
