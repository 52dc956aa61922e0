"""Row validation as SQL generated from the contract.

Each rule is one vectorised predicate over a whole batch of files; a record's quarantine
reason is the first rule it breaks, in this order: malformed, missing required field, bad
type, bad value, field required by the event type, cross-column rule, plausibility. The
column names and constants put into the SQL come from the contract (our code), never from
input files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from assets.ingest.contract import Column, Plausible, Source


def literal(value: object) -> str:
    """A SQL literal for a contract constant."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Rule:
    condition: str  # TRUE when the record breaks the rule
    reason: str  # SQL expression
    detail: str  # SQL expression


def _shown(expr: str, column: Column | None = None) -> str:
    """The offending value for a detail message, cut short; never a personal field's value
    (names, e-mails, notes, comments, participant ids): details are published."""
    if column is not None and column.identifies_a_person:
        return literal("a value not shown (personal field)")
    return f"left(CAST({expr} AS VARCHAR), 60)"


def typed_value(column: Column, text: str, list_expr: str | None = None) -> str:
    """SQL turning the column's normalised text into its contract type (NULL when it can't)."""
    number = f"TRY_CAST({text} AS DOUBLE)"
    match column.type:
        case "string" | "text":
            return text
        case "integer":
            return (
                f"CASE WHEN {number} = floor({number}) AND abs({number}) < 1e15 "
                f"THEN CAST({number} AS BIGINT) END"
            )
        case "number":
            return f"CASE WHEN isfinite({number}) THEN {number} END"
        case "date":
            return (
                f"CASE WHEN regexp_full_match({text}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') "
                f"THEN TRY_CAST({text} AS DATE) END"
            )
        case "timestamp":
            # A timestamp without offset is read in the session time zone: the program's.
            return (
                f"CASE WHEN regexp_matches({text}, '^\\d{{4}}-\\d{{2}}-\\d{{2}}([T ]|$)') "
                f"THEN TRY_CAST({text} AS TIMESTAMPTZ) END"
            )
        case "string_list":
            assert list_expr is not None
            return f"CASE WHEN {text} IS NOT NULL THEN {list_expr} END"
    raise ValueError(column.type)


def _type_name(column: Column) -> str:
    return {
        "string": "a string",
        "text": "a string",
        "integer": "a whole number",
        "number": "a number",
        "date": "a date (YYYY-MM-DD)",
        "timestamp": "an ISO-8601 timestamp",
        "string_list": "a list of strings",
    }[column.type]


def _range_check(column: Column, value: str) -> tuple[str, str] | None:
    checks, words = [], []
    if column.minimum is not None:
        op = "<=" if column.minimum_exclusive else "<"
        checks.append(f"{value} {op} {column.minimum}")
        words.append(
            f"> {column.minimum:g}" if column.minimum_exclusive else f">= {column.minimum:g}"
        )
    if column.maximum is not None:
        checks.append(f"{value} > {column.maximum}")
        words.append(f"<= {column.maximum:g}")
    if not checks:
        return None
    return " OR ".join(checks), " and ".join(words)


def row_rules(source: Source) -> list[Rule]:
    """Every rule of the source, in the order that decides a record's reason.

    Expects a relation with `_malformed`, `_malformed_detail`, and per column `<name>` (the
    normalised text, NULL when blank) and `<name>__type_ok` / `<name>__value` (typed).
    """
    rules = [Rule("_malformed", "'malformed'", "_malformed_detail")]
    for column in source.required_columns:
        rules.append(
            Rule(
                f"{ident(column.name)} IS NULL",
                literal(f"missing_field:{column.name}"),
                literal(f"required field '{column.name}' is missing or blank"),
            )
        )
    for column in source.columns:
        name = ident(column.name)
        rules.append(
            Rule(
                f"{name} IS NOT NULL AND NOT {ident(column.name + '__type_ok')}",
                literal(f"bad_type:{column.name}"),
                f"'expected {_type_name(column)}, got ' || {_shown(name, column)}",
            )
        )
    for column in source.columns:
        value = ident(column.name + "__value")
        reason = literal(f"bad_value:{column.name}")
        if column.allowed:
            allowed = ", ".join(literal(v) for v in column.allowed)
            rules.append(
                Rule(
                    f"{value} NOT IN ({allowed})",
                    reason,
                    f"'expected one of {'|'.join(column.allowed)}, got ' "
                    f"|| {_shown(value, column)}",
                )
            )
        if (check := _range_check(column, value)) is not None:
            condition, words = check
            shown = _shown(value, column)
            rules.append(Rule(condition, reason, f"'expected {words}, got ' || {shown}"))
        if column.max_length is not None:
            rules.append(
                Rule(
                    f"length({value}) > {column.max_length}",
                    reason,
                    literal(f"longer than {column.max_length} characters"),
                )
            )
    for column in source.columns:
        if column.required_for:
            states = ", ".join(literal(s) for s in column.required_for)
            rules.append(
                Rule(
                    f"{ident(column.name)} IS NULL AND event_type__value IN ({states})",
                    literal(f"missing_field:{column.name}"),
                    f"'{column.name} is required when event_type is ' || event_type__value",
                )
            )
    typed_names = {c.name: ident(c.name + "__value") for c in source.columns}
    plain_names = {c.name: c.name for c in source.columns}
    for column_name, predicate in source.row_rules:
        rules.append(
            Rule(
                f"coalesce({predicate.format(**typed_names)}, FALSE)",
                literal(f"bad_value:{column_name}"),
                literal(f"breaks the rule: {predicate.format(**plain_names)}"),
            )
        )
    for column in source.columns:
        if (bounds := column.plausible_bounds) is not None:
            rules.append(_plausibility_rule(column, bounds))
    return rules


def _bound(column: Column, value: float | dt.date, upper: bool) -> str:
    """A bound as a SQL constant of the column's type; a timestamp's date bounds are whole UTC
    days (the upper one is exclusive: the day after)."""
    if column.type == "date":
        return f"DATE '{value.isoformat()}'"
    if column.type == "timestamp":
        day = value + dt.timedelta(days=1) if upper else value
        return f"TIMESTAMPTZ '{day.isoformat()} 00:00:00+00'"
    return repr(float(value))


def _plausibility_rule(column: Column, bounds: Plausible) -> Rule:
    value = ident(column.name + "__value")
    checks, words = [], []
    if bounds.minimum is not None:
        checks.append(f"{value} < {_bound(column, bounds.minimum, upper=False)}")
        words.append(f">= {bounds.minimum}")
    if bounds.maximum is not None:
        op = ">=" if column.type == "timestamp" else ">"
        checks.append(f"{value} {op} {_bound(column, bounds.maximum, upper=True)}")
        words.append(f"<= {bounds.maximum}")
    return Rule(
        f"coalesce({' OR '.join(checks)}, FALSE)",
        literal(f"implausible:{column.name}"),
        f"{literal(f'{bounds.why}: expected ' + ' and '.join(words) + ', got ')} || {_shown(value)}",
    )


def reason_columns(source: Source) -> str:
    """`_reason` and `_detail`: the first rule broken, or NULL for a valid record."""
    rules = row_rules(source)
    reason = " ".join(f"WHEN {r.condition} THEN {r.reason}" for r in rules)
    detail = " ".join(f"WHEN {r.condition} THEN {r.detail}" for r in rules)
    return f"CASE {reason} END AS _reason, CASE {detail} END AS _detail"
