"""Survey mappings: configuration, not code, that places a tool's export on the contract.

One file per survey in `landing/surveys/mappings/` (`.toml`, or `.yaml` / `.yml` with the same
keys) names the tool, the export files it applies to (a glob over file names), the survey and
instrument, the respondent column, how the match is found, and which question is which item.
The README has a complete example; docs/data_contract.md has the rules.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path

import yaml

from assets.ingest.contract import ROLES, SCORE_ITEMS, SURVEY_EXPORTS
from assets.ingest.exports.survey_tools import READERS, normalised
from assets.ingest.files import FileProblem, LandedFile, is_in_flight

MAPPINGS_FOLDER = "surveys/mappings"
MAPPING_SUFFIXES = (".toml", ".yaml", ".yml")
ITEMS = (*SCORE_ITEMS, "nps", "comment")
INSTRUMENTS = SURVEY_EXPORTS.column("instrument").allowed
RESPONDENT_BY = ("email", "participant_id")
# Qualtrics' Status (Response Type) as exported by name and as a code; `keep_statuses` names
# the ones that count (default: live responses only).
QUALTRICS_STATUSES = {
    "IP Address": "0",
    "Survey Preview": "1",
    "Survey Test": "2",
    "Imported": "4",
    "Spam": "8",
    "Offline": "16",
}
DEFAULT_KEEP_STATUSES = ("IP Address",)
# The usual agreement scale; a mapping's [labels] add to it or change it.
DEFAULT_LABELS = {
    "strongly disagree": 1,
    "disagree": 2,
    "neither agree nor disagree": 3,
    "neutral": 3,
    "agree": 4,
    "strongly agree": 5,
}


@dataclass(frozen=True)
class ToolDefaults:
    respondent: str
    submitted_at: str
    time_format: str
    response_id: str | None  # None: the tool has no response id; one is derived


TOOL_DEFAULTS = {
    "qualtrics": ToolDefaults("RecipientEmail", "RecordedDate", "%Y-%m-%d %H:%M:%S", "ResponseId"),
    "google_forms": ToolDefaults("Email Address", "Timestamp", "%m/%d/%Y %H:%M:%S", None),
    "surveymonkey": ToolDefaults(
        "Email Address", "End Date", "%m/%d/%Y %I:%M:%S %p", "Respondent ID"
    ),
    "microsoft_forms": ToolDefaults("Email", "Completion time", "%Y-%m-%d %H:%M:%S", "ID"),
}
assert TOOL_DEFAULTS.keys() == READERS.keys()


class MappingError(ValueError):
    """The mapping file is not a valid mapping."""


@dataclass(frozen=True)
class Mapping:
    path: str  # relative to landing/: names the mapping in messages and header baselines
    tool: str
    files: tuple[str, ...]  # globs over export file names
    survey_id: str
    instrument: str
    respondent_column: str
    respondent_by: str
    match_column: str | None  # None: the respondent's match is found in the roster
    role: str | None  # None: the respondent's role in the match, from the roster
    submitted_column: str
    time_format: str  # strptime pattern of the submission time
    timezone: str | None  # None: the zone the tool states, else the program's
    response_id_column: str | None
    items: dict[str, str]  # export column -> contract item
    labels: dict[str, int]  # answer label (lower case) -> score
    allow_header_drift: bool
    keep_statuses: tuple[str, ...] = DEFAULT_KEEP_STATUSES  # Qualtrics Status values loaded

    def kept_status_keys(self) -> set[str]:
        """The kept statuses as the export may write them: lower-case names and codes."""
        return {k.lower() for k in self.keep_statuses} | {
            QUALTRICS_STATUSES[k] for k in self.keep_statuses
        }

    def applies_to(self, file_name: str) -> bool:
        return any(fnmatch.fnmatchcase(file_name, pattern) for pattern in self.files)

    def named_columns(self) -> dict[str, str]:
        """Every export column the mapping uses -> what for."""
        used = {
            self.respondent_column: "respondent",
            self.submitted_column: "submitted_at",
            **({self.match_column: "match_id"} if self.match_column else {}),
            **({self.response_id_column: "response_id"} if self.response_id_column else {}),
        }
        return {**used, **self.items}

    def setting_of(self, column: str) -> str:
        """The setting of the mapping file that names `column`, as it would be written there
        (or as the tool's default), for messages telling what to change."""
        what = self.named_columns()[column]
        defaults = TOOL_DEFAULTS[self.tool]
        setting = {
            "respondent": ("[respondent] column", defaults.respondent),
            "submitted_at": ("[submitted_at] column", defaults.submitted_at),
            "match_id": ("[match] column", None),
            "response_id": ("response_id", defaults.response_id),
        }.get(what)
        if setting is None:
            return f'[items] "{column}" = "{what}"'
        key, default = setting
        by_default = f' (the default of tool = "{self.tool}")' if column == default else ""
        return f'{key} = "{column}"{by_default}'


def _table(raw: dict, key: str) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise MappingError(f"[{key}] must be a table of keys")
    return value


def _choice(value: object, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise MappingError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def _text(raw: dict, key: str, what: str | None = None) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{what or key} is required (a non-empty string)")
    return value.strip()


def _optional_text(raw: dict, key: str) -> str | None:
    return _text(raw, key) if raw.get(key) is not None else None


def mapping_from(raw: dict, path: str) -> Mapping:
    """A validated mapping from the keys of its file."""
    known = {
        "tool", "files", "survey_id", "instrument", "allow_header_drift", "respondent",
        "match", "submitted_at", "response_id", "items", "labels", "keep_statuses",
    }  # fmt: skip
    if unknown := sorted(set(raw) - known):
        raise MappingError(f"unknown key(s): {', '.join(unknown)}")
    tool = _choice(raw.get("tool"), tuple(TOOL_DEFAULTS), "tool")
    defaults = TOOL_DEFAULTS[tool]
    files = raw.get("files")
    files = [files] if isinstance(files, str) else files
    if not files or not all(isinstance(f, str) and f for f in files):
        raise MappingError("files is required: a glob (or a list of globs) over export names")
    respondent, match, submitted = (_table(raw, k) for k in ("respondent", "match", "submitted_at"))
    items = _table(raw, "items")
    for column, item in items.items():
        _choice(item, ITEMS, f"item of {column!r}")
    if len(set(items.values())) < len(items):
        raise MappingError("[items] maps two questions onto the same item")
    labels = {}
    for label, score in _table(raw, "labels").items():
        if not isinstance(score, int) or not 1 <= score <= 5:
            raise MappingError(f"label {label!r} must map to a whole number 1-5")
        labels[normalised(label).lower()] = score
    role = match.get("role")
    response_id = raw.get("response_id", defaults.response_id)
    if response_id is not False and response_id is not None and not isinstance(response_id, str):
        raise MappingError("response_id must be a column name, or false (ids are derived)")
    keep_statuses = _keep_statuses(raw.get("keep_statuses"), tool)
    return Mapping(
        path=path,
        tool=tool,
        files=tuple(files),
        survey_id=_text(raw, "survey_id"),
        instrument=_choice(raw.get("instrument"), INSTRUMENTS, "instrument"),
        respondent_column=normalised(respondent.get("column") or defaults.respondent),
        respondent_by=_choice(respondent.get("by", "email"), RESPONDENT_BY, "respondent.by"),
        match_column=normalised(m) if (m := _optional_text(match, "column")) else None,
        role=None if role is None else _choice(role, ROLES, "match.role"),
        submitted_column=normalised(submitted.get("column") or defaults.submitted_at),
        time_format=submitted.get("format") or defaults.time_format,
        timezone=_optional_text(submitted, "timezone"),
        response_id_column=normalised(response_id) if response_id else None,
        items={normalised(column): item for column, item in items.items()},
        labels={**DEFAULT_LABELS, **labels},
        allow_header_drift=bool(raw.get("allow_header_drift", False)),
        keep_statuses=keep_statuses,
    )


def _keep_statuses(value: object, tool: str) -> tuple[str, ...]:
    """`keep_statuses`: the Qualtrics Status values whose responses load, by name as the
    export's Status column shows them (any case)."""
    if value is None:
        return DEFAULT_KEEP_STATUSES
    if tool != "qualtrics":
        raise MappingError('keep_statuses applies to tool = "qualtrics" only (its Status column)')
    allowed = ", ".join(f'"{name}"' for name in QUALTRICS_STATUSES)
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise MappingError(f"keep_statuses must be a list of Qualtrics statuses: {allowed}")
    by_key = {name.lower(): name for name in QUALTRICS_STATUSES}
    by_key.update({code: name for name, code in QUALTRICS_STATUSES.items()})
    unknown = [v for v in values if v.strip().lower() not in by_key]
    if unknown:
        raise MappingError(
            f"keep_statuses: {', '.join(repr(v) for v in unknown)} is not a Qualtrics status "
            f"(one of {allowed})"
        )
    return tuple(dict.fromkeys(by_key[v.strip().lower()] for v in values))


def _read(path: Path) -> dict:
    text = path.read_text(encoding="utf-8-sig")
    try:
        raw = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise MappingError(f"cannot be read: {error}") from None
    if not isinstance(raw, dict):
        raise MappingError("is not a table of keys")
    return raw


def mappings_naming(landing_dir: Path, file_name: str) -> tuple[list[tuple[str, dict]], list[str]]:
    """The mappings in landing/ whose `files` glob names the export (path, keys), and the
    mapping files that cannot be read."""
    folder = landing_dir / MAPPINGS_FOLDER
    candidates = sorted(
        p
        for p in folder.glob("*")
        if p.suffix in MAPPING_SUFFIXES and p.is_file() and not is_in_flight(p.name)
    )
    found, unreadable = [], []
    for path in candidates:
        relative = f"{MAPPINGS_FOLDER}/{path.name}"
        try:
            raw = _read(path)
        except MappingError as error:
            unreadable.append(f"{relative} {error}")
            continue
        globs = raw.get("files")
        globs = [globs] if isinstance(globs, str) else globs if isinstance(globs, list) else []
        if any(isinstance(g, str) and fnmatch.fnmatchcase(file_name, g) for g in globs):
            found.append((relative, raw))
    return found, unreadable


def mapping_for(landed: LandedFile) -> Mapping:
    """The one mapping whose `files` glob names this export, or a FileProblem saying why not."""
    found, unreadable = mappings_naming(landed.landing_dir, landed.path.name)
    if not found:
        hint = f" (unreadable: {'; '.join(unreadable)})" if unreadable else ""
        raise FileProblem(
            "file:no_mapping",
            f"no mapping in {MAPPINGS_FOLDER}/ names {landed.path.name} in its `files`{hint}",
        )
    if len(found) > 1:
        raise FileProblem(
            "file:bad_mapping",
            f"{landed.path.name} is named by several mappings: {', '.join(p for p, _ in found)}",
        )
    relative, raw = found[0]
    try:
        return mapping_from(raw, relative)
    except MappingError as error:
        raise FileProblem("file:bad_mapping", f"{relative}: {error}") from None
