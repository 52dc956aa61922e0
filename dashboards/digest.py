"""The weekly digests: one per program for its managers, one for the operator. Self-contained
HTML (no script, nothing loaded).

A program's digest fits two phone screens: the stale-data warning when there is one, the five
most urgent follow-ups of the queue (dashboards/queue.py) with a prepared message, the headline
figures with their change since the last month end (on track beside the pace against target),
what is new since last week (pairs newly needing attention, goals newly overdue), the pairs
going well, and links to the program's pages. Restricted (names, e-mails). The data problems
(rejected files, quarantined records, tables not current) are in the operator's digest only.

"Since last week" compares with the state the digest saved for an earlier as-of date (the
`state-<D>.json` beside it: figures and the ids of at-risk pairs and overdue goals, no names):
the newest one dated D − 7 or earlier, else the oldest one before D (then the digest says which
date it compares with), else none (the first digest lists what is at risk now).
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dashboards import at_risk, fmt, queue
from dashboards.access import RESTRICTED, program_slug
from dashboards.headline import headline_rows
from dashboards.page import Context
from dashboards.sql import ALL, Row, fetch

STATE_PREFIX = "state-"
# Names listed per program and list; the rest are on the at-risk page.
LIST_LIMIT = 50

FIGURES_SQL = """
WITH risk AS (SELECT program, count(*) AS at_risk_pairs FROM marts.at_risk_matches GROUP BY program),
overdue AS (
    SELECT g.program, count(*) AS overdue_goals
    FROM marts.goal_status g JOIN marts.match_cadence m USING (match_id)
    WHERE g.is_overdue AND m.is_active GROUP BY g.program
)
SELECT h.program, h.health_score, h.active_matches, h.on_track_share, h.goal_attainment_rate,
    h.satisfaction_mean, h.response_rate_90d,
    coalesce(r.at_risk_pairs, 0) AS at_risk_pairs, coalesce(o.overdue_goals, 0) AS overdue_goals
FROM marts.program_health h LEFT JOIN risk r USING (program) LEFT JOIN overdue o USING (program)
WHERE h.cohort = '(all)'
ORDER BY h.program
"""

# Files loaded since the digest compared with ($since; NULL: every file) that were rejected or
# had records quarantined.
PROBLEMS_SQL = """
SELECT f.path, f.source, f.status, f.rows_read, f.rows_quarantined, f.message, f.ingested_at,
    (SELECT string_agg(reason || ' × ' || n, ', ' ORDER BY n DESC, reason) FROM (
        SELECT q.reason, count(*) AS n FROM ingest.quarantine q WHERE q.path = f.path
        GROUP BY q.reason)) AS rules
FROM ingest.files f
WHERE (f.status = 'rejected' OR f.rows_quarantined > 0)
    AND ($since IS NULL OR f.ingested_at > CAST($since AS TIMESTAMPTZ))
ORDER BY f.ingested_at DESC, f.path
"""


# Pairs going well: active, on track, meeting at or above their target pace, with at least
# three meetings held; the best pace first.
GOING_WELL_LIMIT = 3
GOING_WELL_SQL = f"""
SELECT m.match_id, m.cohort, m.meetings_held, m.meetings_per_month, m.target_per_month,
    m.last_meeting_on, {at_risk.PEOPLE}
FROM marts.match_cadence m {at_risk.IDENTITIES}
WHERE m.program = $program AND m.is_active AND m.status = 'on_track'
    AND m.meetings_held >= 3 AND m.meetings_per_month >= m.target_per_month
ORDER BY m.meetings_per_month / m.target_per_month DESC, m.meetings_held DESC, m.match_id
LIMIT {GOING_WELL_LIMIT}
"""


@dataclass(frozen=True)
class Figure:
    label: str
    key: str
    form: Callable[[Any], str]
    change_form: Callable[[float], str]
    higher_is_better: bool


def _points(delta: float) -> str:
    return f"{100 * delta:+.0f} pts"


FIGURES = [
    Figure("Health score", "health_score", lambda v: f"{v:.0f}", lambda d: f"{d:+.0f}", True),
    Figure("Active pairs", "active_matches", fmt.count, lambda d: f"{d:+,.0f}", True),
    Figure("On track", "on_track_share", fmt.pct, _points, True),
    Figure("Goal attainment", "goal_attainment_rate", fmt.pct, _points, True),
    Figure("Satisfaction (1–5)", "satisfaction_mean", fmt.decimal, lambda d: f"{d:+.1f}", True),
    Figure("Response rate, 90 days", "response_rate_90d", fmt.pct, _points, True),
    Figure("Pairs needing attention", "at_risk_pairs", fmt.count, lambda d: f"{d:+,.0f}", False),
    Figure(
        "Overdue goals (active pairs)", "overdue_goals", fmt.count, lambda d: f"{d:+,.0f}", False
    ),
]


@dataclass(frozen=True)
class ProgramDigest:
    program: str
    figures: Row  # this week's values by Figure.key
    previous: Row | None  # the compared digest's values (None: the program was not in it)
    new_at_risk: list[Row]  # at_risk.pairs rows
    new_overdue: list[Row]  # at_risk.goals rows
    urgent: list[queue.Entry] = field(default_factory=list)  # the queue's first, not contacted
    going_well: list[Row] = field(default_factory=list)
    headline: Row | None = None  # headline.headline_rows' (all) row: figures and last month's


@dataclass(frozen=True)
class Digest:
    as_of: dt.date
    built_at: dt.datetime
    compared_with: dt.date | None
    programs: list[ProgramDigest]
    problems: list[Row]
    stale_sources: list[Row]
    state: dict[str, Any]  # what the next digests compare with

    @property
    def file_name(self) -> str:
        return f"digest-{self.as_of.isoformat()}.html"

    @property
    def state_name(self) -> str:
        return f"{STATE_PREFIX}{self.as_of.isoformat()}.json"


def compose(ctx: Context, digest_dir: Path) -> Digest:
    """The digest of ctx.as_of, compared with the saved state `previous_state` picks."""
    previous = previous_state(digest_dir, ctx.as_of)
    figures = fetch(ctx.con, FIGURES_SQL)
    risk_ids = _ids(ctx, "SELECT program, match_id AS id FROM marts.at_risk_matches")
    overdue_ids = _ids(
        ctx,
        """SELECT g.program, g.goal_id AS id FROM marts.goal_status g
           JOIN marts.match_cadence m USING (match_id) WHERE g.is_overdue AND m.is_active""",
    )
    new_risk = _new(risk_ids, previous, "at_risk")
    new_overdue = _new(overdue_ids, previous, "overdue")
    pairs = _by_program(at_risk.pairs(ctx, ids=sorted(set().union(*new_risk.values())), limit=None))
    goals = _by_program(
        at_risk.goals(ctx, ids=sorted(set().union(*new_overdue.values())), limit=None)
    )
    headlines = {r["program"]: r for r in headline_rows(ctx) if r["cohort"] == ALL}
    programs = [
        ProgramDigest(
            program=row["program"],
            figures=row,
            previous=(previous or {}).get("figures", {}).get(row["program"]),
            new_at_risk=pairs.get(row["program"], []),
            new_overdue=goals.get(row["program"], []),
            urgent=queue.urgent(queue.entries(replace(ctx, program=row["program"]))),
            going_well=fetch(ctx.con, GOING_WELL_SQL, program=row["program"]),
            headline=headlines.get(row["program"]),
        )
        for row in figures
    ]
    since = previous["built_at"] if previous else None
    return Digest(
        as_of=ctx.as_of,
        built_at=ctx.built_at,
        compared_with=dt.date.fromisoformat(previous["as_of"]) if previous else None,
        programs=programs,
        problems=fetch(ctx.con, PROBLEMS_SQL, since=since),
        stale_sources=[row for row in ctx.freshness if row["stale"]],
        state={
            "as_of": ctx.as_of.isoformat(),
            "built_at": ctx.built_at.isoformat(),
            "figures": {row["program"]: {f.key: row[f.key] for f in FIGURES} for row in figures},
            "at_risk": {program: sorted(ids) for program, ids in risk_ids.items()},
            "overdue": {program: sorted(ids) for program, ids in overdue_ids.items()},
        },
    )


def previous_state(digest_dir: Path, as_of: dt.date) -> dict[str, Any] | None:
    """The saved state to compare D with: the newest dated D − 7 or earlier, else the oldest
    dated before D, else None."""
    dated = sorted(
        (dt.date.fromisoformat(path.stem.removeprefix(STATE_PREFIX)), path)
        for path in Path(digest_dir).glob(f"{STATE_PREFIX}*.json")
        if _is_date(path.stem.removeprefix(STATE_PREFIX))
    )
    week_ago = [path for day, path in dated if day <= as_of - dt.timedelta(days=7)]
    earlier = [path for day, path in dated if day < as_of]
    chosen = week_ago[-1] if week_ago else earlier[0] if earlier else None
    return json.loads(chosen.read_text()) if chosen else None


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _ids(ctx: Context, sql: str) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = {}
    for row in fetch(ctx.con, sql):
        ids.setdefault(row["program"], set()).add(row["id"])
    return ids


def _new(current: dict[str, set[str]], previous: dict | None, key: str) -> dict[str, set[str]]:
    """Ids now listed that the compared digest did not list (all of them for a first digest)."""
    before = (previous or {}).get(key, {})
    return {program: ids - set(before.get(program, [])) for program, ids in current.items()}


def _by_program(rows: list[Row]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row["program"], []).append(row)
    return grouped


# --- rendering ------------------------------------------------------------------------------


def render(
    digest: Digest, programs: Sequence[str] | None = None, *, root: str | None = None
) -> str:
    """A managers' digest as one HTML document: every program, or only those named. With
    `root` (the path from the digest to the site's top), it links to each program's pages.
    Data problems are not in it: they are the operator's (render_operator)."""
    shown = [p for p in digest.programs if programs is None or p.program in programs]
    scope = "all programs" if programs is None else ", ".join(html.escape(p) for p in programs)
    compared = (
        f"Changes since the digest of <strong>{digest.compared_with.isoformat()}</strong>."
        if digest.compared_with
        else "The first digest: nothing earlier to compare with."
    )
    sections = "".join(_program_html(p, digest.compared_with, root) for p in shown) or (
        "<p>No program has data yet.</p>"
    )
    return _document(
        f"Mentor Pulse weekly digest · {digest.as_of.isoformat()}",
        f"""<h1>Mentor Pulse weekly digest</h1>
{_stale_html(digest)}<p class="stamp">Data as of <strong>{digest.as_of.isoformat()}</strong> · built at
{fmt.timestamp(digest.built_at)} · {scope}. {compared}</p>
<p class="private">Personal data for program managers: do not forward.</p>
{sections}""",
    )


def render_operator(digest: Digest, ctx: Context) -> str:
    """The operator's digest: stale sources, files rejected or with quarantined records, and
    tables a failure left with older content. No names; kept out of the managers' digests."""
    failed = "".join(
        f"<li><strong>{fmt.esc(row['table_name'])}</strong>: {fmt.esc(row['status'])}, content "
        f"as of {fmt.esc(row['content_as_of'])}</li>"
        for row in ctx.tables_not_current
    )
    tables = f"<h3>Tables not current</h3><ul>{failed}</ul>" if failed else ""
    return _document(
        f"Mentor Pulse operator's digest · {digest.as_of.isoformat()}",
        f"""<h1>Mentor Pulse: data problems</h1>
<p class="stamp">Data as of <strong>{digest.as_of.isoformat()}</strong> · built at
{fmt.timestamp(digest.built_at)}. For whoever runs the pipeline.</p>
{_problems_html(digest)}{tables}""",
    )


def _document(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{CSS}</style>
</head>
<body>
{body}
</body>
</html>
"""


def _stale_html(digest: Digest) -> str:
    if not digest.stale_sources:
        return ""
    items = ", ".join(
        f"{fmt.esc(row['source'])} ("
        + ("no records" if row["newest_on"] is None else f"{fmt.count(row['age_days'])} days old")
        + ")"
        for row in digest.stale_sources
    )
    return (
        f'<p class="stale"><strong>Data may be out of date:</strong> the newest records of '
        f"{items} are older than the freshness limit; figures and lists may miss recent "
        "meetings.</p>\n"
    )


def subject(digest: Digest, programs: Sequence[str] | None = None) -> str:
    scope = "all programs" if programs is None else ", ".join(programs)
    return f"Mentor Pulse weekly digest, {scope}, as of {digest.as_of.isoformat()}"


def _links(program: str, root: str | None) -> str:
    if root is None:
        return ""
    slug = program_slug(program)
    return (
        f'<p class="links"><a href="{root}{RESTRICTED}/{slug}/at_risk.html">Who to contact</a> · '
        f'<a href="{root}{RESTRICTED}/{slug}/comments.html">Comments</a> · '
        f'<a href="{root}index.html">All dashboards</a></p>'
    )


def _program_html(program: ProgramDigest, compared_with: dt.date | None, root: str | None) -> str:
    """One program, short: who to contact first, the figures against last month, what is new
    this week, the pairs going well, the links."""
    return f"""<section>
<h2>{fmt.esc(program.program)}</h2>
<h3>Contact first</h3>
{_urgent_html(program.urgent)}
{_headline_html(program.headline)}
{_new_html(program, compared_with)}
<h3>Going well</h3>
{_going_well_html(program.going_well)}
{_links(program.program, root)}</section>"""


def _urgent_html(entries: list[queue.Entry]) -> str:
    if not entries:
        return '<p class="muted">No pair to contact — nice.</p>'
    items = []
    for entry in entries:
        row, step = entry.row, queue.next_step(entry)
        reason = queue.reasons(entry)[0] if queue.reasons(entry) else ""
        href = step.mailto()
        write = f' <a href="{fmt.esc(href)}">write</a>' if href else ""
        items.append(
            f"<li><strong>{fmt.esc(row['mentor_name'])}</strong> &amp; "
            f"{fmt.esc(row['mentee_name'])} — {fmt.esc(reason)}.{write}</li>"
        )
    return f'<ol class="urgent">{"".join(items)}</ol>'


def _headline_html(row: Row | None) -> str:
    if row is None:
        return ""
    since = fmt.month_end(row["prev_month_end"]) if row.get("prev_month_end") else None
    pace = (
        f" <small>meeting {fmt.decimal(row['meetings_per_month'])} a month vs target "
        f"{fmt.decimal(row['target_per_month'])}</small>"
        if row.get("meetings_per_month") is not None and row.get("target_per_month")
        else ""
    )
    lines = [
        ("Active pairs", "active_matches", fmt.count, lambda d: f"{d:+,.0f}", True, ""),
        ("On track", "on_track_share", fmt.pct, _points, True, pace),
        ("Goal attainment", "goal_attainment_rate", fmt.pct, _points, True, ""),
        (
            "Needing attention",
            "pairs_needing_attention",
            fmt.count,
            lambda d: f"{d:+,.0f}",
            False,
            "",
        ),
    ]
    rows = "".join(
        f"<tr><th>{label}{extra}</th><td class=num>{_form(form, row.get(key))}</td>"
        f"<td>{_delta(row.get(key), row.get('prev_' + key), form, change, better)}</td></tr>"
        for label, key, form, change, better, extra in lines
    )
    head = f"Change since {since}" if since else "Change"
    return (
        f'<table class="figures"><thead><tr><th>Figures</th><th class=num>Now</th>'
        f"<th>{head}</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _form(form: Callable[[Any], str], value: Any) -> str:
    return '<span class="muted">—</span>' if value is None else form(value)


def _delta(now: Any, before: Any, form, change_form, higher_is_better: bool) -> str:
    if now is None or before is None:
        return '<span class="muted">—</span>'
    delta = now - before
    if abs(delta) < 1e-9:
        return '<span class="same">no change</span>'
    better = (delta > 0) == higher_is_better
    word = "better" if better else "worse"
    arrow = "▲" if delta > 0 else "▼"
    return f'<span class="{word}">{arrow} {change_form(delta)}</span>'


def _new_html(program: ProgramDigest, compared_with: dt.date | None) -> str:
    since = f"since {compared_with.isoformat()}" if compared_with else "(first digest)"
    names = ", ".join(
        f"{fmt.esc(r['mentor_name'])} &amp; {fmt.esc(r['mentee_name'])}"
        for r in program.new_at_risk[:3]
    )
    more = len(program.new_at_risk) - 3
    names += f" and {fmt.count(more)} more" if more > 0 else ""
    pairs = fmt.count(len(program.new_at_risk))
    goals = fmt.count(len(program.new_overdue))
    change = _change(FIGURES[6], program)
    return (
        f'<p class="new"><strong>New {since}:</strong> {pairs} pair'
        f"{'' if len(program.new_at_risk) == 1 else 's'} newly needing attention"
        f"{': ' + names if names else ''}; {goals} goal"
        f"{'' if len(program.new_overdue) == 1 else 's'} newly overdue. "
        f"Pairs needing attention: {change}.</p>"
    )


def _going_well_html(rows: list[Row]) -> str:
    if not rows:
        return '<p class="muted">No pair at or above its target pace with three meetings yet.</p>'
    items = "".join(
        f"<li><strong>{fmt.esc(r['mentor_name'])}</strong> &amp; {fmt.esc(r['mentee_name'])}: "
        f"{fmt.count(r['meetings_held'])} meetings, {fmt.decimal(r['meetings_per_month'])} a "
        f"month (target {fmt.decimal(r['target_per_month'])}).</li>"
        for r in rows
    )
    return f'<ul class="well">{items}</ul>'


def _change(figure: Figure, program: ProgramDigest) -> str:
    before = (program.previous or {}).get(figure.key)
    now = program.figures.get(figure.key)
    if before is None or now is None:
        return '<span class="muted">no earlier figure</span>'
    delta = now - before
    if abs(delta) < 1e-9:
        return '<span class="same">no change</span>'
    better = (delta > 0) == figure.higher_is_better
    arrow = "▲" if delta > 0 else "▼"
    word = "better" if better else "worse"
    return (
        f'<span class="{word}">{arrow} {figure.change_form(delta)} '
        f"<small>({word}; was {figure.form(before)})</small></span>"
    )


def _problems_html(digest: Digest) -> str:
    since = (
        f"files loaded since the digest of {digest.compared_with.isoformat()}"
        if digest.compared_with
        else "every file loaded so far"
    )
    stale = "".join(
        f"<li><strong>{fmt.esc(row['source'])}</strong>: "
        + (
            "no records"
            if row["newest_on"] is None
            else f"newest record {row['newest_on'].isoformat()}, "
            f"{fmt.count(row['age_days'])} days before the as-of date"
        )
        + "</li>"
        for row in digest.stale_sources
    )
    files = "".join(
        f"<li><strong>{fmt.esc(row['path'])}</strong> ({fmt.esc(row['source'])}): "
        + (
            f"rejected — {fmt.esc(row['message'])}"
            if row["status"] == "rejected"
            else f"{fmt.count(row['rows_quarantined'])} of {fmt.count(row['rows_read'])} records "
            f"quarantined ({fmt.esc(row['rules'])})"
        )
        + "</li>"
        for row in digest.problems[:LIST_LIMIT]
    )
    more = len(digest.problems) - LIST_LIMIT
    if more > 0:
        files += f"<li>and {fmt.count(more)} more on the data-quality page.</li>"
    body = ""
    if stale:
        body += f"<h3>Sources older than the freshness setting</h3><ul>{stale}</ul>"
    body += (
        f"<h3>Files with problems ({since})</h3><ul>{files}</ul>"
        if files
        else f'<p class="muted">No rejected files or quarantined records in {since}.</p>'
    )
    return f"<section><h2>Data problems</h2>{body}</section>"


CSS = """
body { margin: 0 auto; max-width: 760px; padding: 16px; color: #1f2933; background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 22px 0 6px; padding-top: 10px; border-top: 2px solid #e3e7ed; }
h3 { font-size: 14px; margin: 14px 0 4px; }
.stamp, .muted, small { color: #5f6b7a; }
.private { font-size: 12px; color: #b45309; }
table.figures { border-collapse: collapse; width: 100%; }
table.figures th, table.figures td { padding: 4px 6px; text-align: left;
  border-bottom: 1px solid #e3e7ed; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.better { color: #15803d; font-weight: 600; }
.worse { color: #b91c1c; font-weight: 600; }
.same { color: #5f6b7a; }
.no-email { color: #b45309; font-weight: 600; }
ul { padding-left: 18px; }
li { margin: 3px 0; overflow-wrap: anywhere; }
.stale { padding: 8px 10px; border-radius: 6px; background: #fff7e6; color: #92400e; }
ol.urgent, ul.well { padding-left: 20px; margin: 4px 0; }
p.new { margin: 8px 0; }
table.figures th small { display: block; font-weight: 400; color: #5f6b7a; }
.links a { font-weight: 600; }
"""
