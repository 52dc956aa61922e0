"""The queue: one ranked list of the pairs of a program to contact (restricted page).

The rule's flags (marts.at_risk_matches), overdue goals of active pairs (marts.goal_status)
and the forecast (marts.match_risk) merged, each pair once, with its reasons, who was last
contacted and when (staging.followups), and the next step: whom to write to, with a prepared
message (a mailto link), and a link to record the follow-up (served by `mentorpulse serve`).

The forecast is shown as a calibrated band: the share of pairs given a forecast in the same
band in the back-test's months that did go quiet or close early (marts.risk_backtest,
pooled over its tested months), never the raw probability. Ranking (docs/restricted_pages.md):
pairs contacted in the last CONTACT_QUIET_DAYS days go last; the others by that calibrated
chance (none without a model), then flagged by the rule first, then days without a meeting,
then overdue goals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

from dashboards import fmt
from dashboards.access import program_slug
from dashboards.page import Context
from dashboards.sql import Row, fetch, table_exists

# A forecast alone puts a pair in the queue when at least this share of the pairs in its band
# went quiet or closed early in the back-test.
FORECAST_INCLUDE = 0.5
# A pair contacted this recently goes to the end of the queue: give the contact time to work.
CONTACT_QUIET_DAYS = 14
URGENT = 5  # the digest's "most urgent follow-ups"
LIMIT = 300  # cards on the page (the page stays small on a phone); the count says how many more
STATUS_WORDS = {"not_started": "Not started", "lapsed": "Lapsed", "at_risk": "At risk"}

CALIBRATION_SQL = """
SELECT calibration FROM marts.risk_backtest
WHERE model_status = 'fitted' AND calibration IS NOT NULL
"""


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    matches: int
    observed: float

    @property
    def label(self) -> str:
        return f"{100 * self.low:.0f}–{100 * self.high:.0f}%"


def bands(ctx: Context) -> list[Band]:
    """The back-test's calibration bins pooled over every tested month: per bin, the pairs
    scored in it and the share that went quiet or closed early."""
    if not table_exists(ctx.con, "marts.risk_backtest"):
        return []
    return pooled_bands([row["calibration"] for row in fetch(ctx.con, CALIBRATION_SQL)])


def pooled_bands(calibrations: list[str]) -> list[Band]:
    """Calibration tables (JSON, one per tested month) pooled bin by bin."""
    pooled: dict[tuple[float, float], list[float]] = {}
    for calibration in calibrations:
        for b in json.loads(calibration):
            key = (round(b["bin_low"], 2), round(b["bin_high"], 2))
            n, hits = pooled.setdefault(key, [0, 0.0]), b["matches"] * b["observed_rate"]
            n[0] += b["matches"]
            n[1] += hits
    return [
        Band(low, high, int(n), hits / n)
        for (low, high), (n, hits) in sorted(pooled.items())
        if n > 0
    ]


def band_of(probability: float | None, all_bands: list[Band]) -> Band | None:
    if probability is None:
        return None
    for band in all_bands:
        if band.low <= probability < band.high or (band.high >= 1 and probability >= band.low):
            return band
    return None


def _queue_sql(ctx: Context) -> str:
    has_risk = table_exists(ctx.con, "marts.match_risk")
    has_followups = table_exists(ctx.con, "staging.followups")
    risk = (
        "SELECT match_id, probability, reasons AS risk_reasons FROM marts.match_risk "
        "WHERE model_status = 'fitted'"
        if has_risk
        else "SELECT NULL::VARCHAR AS match_id, NULL::DOUBLE AS probability, "
        "NULL::VARCHAR AS risk_reasons WHERE false"
    )
    contact = (
        """SELECT match_id, max(contacted_on) AS contacted_on,
               arg_max("by", (contacted_on, _file_name, _line)) AS contacted_by,
               arg_max(channel, (contacted_on, _file_name, _line)) AS contact_channel,
               arg_max(outcome, (contacted_on, _file_name, _line)) AS contact_outcome,
               arg_max(note, (contacted_on, _file_name, _line)) AS contact_note,
               count(*) AS contacts
           FROM staging.followups WHERE contacted_on <= CAST($as_of AS DATE) GROUP BY match_id"""
        if has_followups
        else "SELECT NULL::VARCHAR AS match_id, NULL::DATE AS contacted_on, "
        "NULL::VARCHAR AS contacted_by, NULL::VARCHAR AS contact_channel, "
        "NULL::VARCHAR AS contact_outcome, NULL::VARCHAR AS contact_note, 0 AS contacts WHERE false"
    )
    return f"""
WITH overdue AS (
    SELECT match_id, count(*) AS overdue_goals,
        max(date_diff('day', target_date, CAST($as_of AS DATE))) AS most_overdue_days,
        arg_max(t.title, date_diff('day', g.target_date, CAST($as_of AS DATE))) AS overdue_title
    FROM marts.goal_status g LEFT JOIN restricted.goal_texts t USING (goal_id)
    WHERE g.is_overdue GROUP BY g.match_id
),
risk AS ({risk}),
contact AS ({contact})
SELECT m.match_id, m.program, m.cohort, m.mentor_key, m.status AS rule_status, f.reason,
    f.match_id IS NOT NULL AS flagged,
    coalesce(m.days_since_last_meeting, m.active_days) AS days_without_meeting,
    m.last_meeting_on, coalesce(o.overdue_goals, 0) AS overdue_goals, o.most_overdue_days,
    o.overdue_title, r.probability, r.risk_reasons,
    c.contacted_on, c.contacted_by, c.contact_channel, c.contact_outcome, c.contact_note,
    coalesce(c.contacts, 0) AS contacts,
    mentor.full_name AS mentor_name, nullif(trim(mentor.email), '') AS mentor_email,
    mentee.full_name AS mentee_name, nullif(trim(mentee.email), '') AS mentee_email
FROM marts.match_cadence m
LEFT JOIN marts.at_risk_matches f USING (match_id)
LEFT JOIN overdue o USING (match_id)
LEFT JOIN risk r USING (match_id)
LEFT JOIN contact c USING (match_id)
LEFT JOIN restricted.participant_identity mentor ON mentor.participant_key = m.mentor_key
LEFT JOIN restricted.participant_identity mentee ON mentee.participant_key = m.mentee_key
WHERE m.is_active AND ($program IS NULL OR m.program = $program)
    AND (f.match_id IS NOT NULL OR o.match_id IS NOT NULL OR r.probability >= $min_probability)
"""


@dataclass(frozen=True)
class Entry:
    row: Row
    band: Band | None
    rank: int = 0

    @property
    def recently_contacted(self) -> bool:
        return self.row["contacted_on"] is not None and self.row["days_since_contact"] <= (
            CONTACT_QUIET_DAYS
        )


def entries(ctx: Context) -> list[Entry]:
    """The queue of ctx's program (every program without one), ranked, each pair once."""
    all_bands = bands(ctx)
    likely = [b.low for b in all_bands if b.observed >= FORECAST_INCLUDE]
    rows = fetch(
        ctx.con,
        _queue_sql(ctx),
        as_of=ctx.as_of,
        program=ctx.program,
        min_probability=min(likely) if likely else 2.0,
    )
    found = []
    for row in rows:
        band = band_of(row["probability"], all_bands)
        row["days_since_contact"] = (
            (ctx.as_of - row["contacted_on"]).days if row["contacted_on"] else None
        )
        forecast_only = not row["flagged"] and not row["overdue_goals"]
        if forecast_only and (band is None or band.observed < FORECAST_INCLUDE):
            continue
        found.append(Entry(row, band))
    found.sort(
        key=lambda e: (
            e.recently_contacted,
            -(e.band.observed if e.band else 0.0),
            not e.row["flagged"],
            -(e.row["days_without_meeting"] or 0),
            -e.row["overdue_goals"],
            e.row["match_id"],
        )
    )
    return [Entry(e.row, e.band, rank) for rank, e in enumerate(found, start=1)]


# --- what to say ------------------------------------------------------------------------------


def reasons(entry: Entry) -> list[str]:
    """The pair's reasons, in words (plain text)."""
    row = entry.row
    said = []
    if row["flagged"]:
        said.append(f"{STATUS_WORDS.get(row['rule_status'], row['rule_status'])}: {row['reason']}")
    if row["overdue_goals"]:
        goals = (
            "1 overdue goal"
            if row["overdue_goals"] == 1
            else f"{row['overdue_goals']} overdue goals"
        )
        said.append(
            f"{goals}, the oldest “{row['overdue_title']}” {row['most_overdue_days']} days past its date"
        )
    if entry.band:
        said.append(
            f"Forecast band {entry.band.label}: {100 * entry.band.observed:.0f}% of pairs with "
            f"such a forecast went quiet or closed early within 60 days (n = {entry.band.matches})"
            + (f"; {row['risk_reasons']}" if row["risk_reasons"] else "")
        )
    return said


def _first_name(name: str | None) -> str:
    return (name or "").split(" ")[0] or "there"


@dataclass(frozen=True)
class NextStep:
    text: str  # plain text
    to: str | None
    cc: str | None
    subject: str
    body: str

    def mailto(self) -> str | None:
        if not self.to:
            return None
        query = f"subject={quote(self.subject)}&body={quote(self.body)}"
        if self.cc:
            query = f"cc={quote(self.cc, safe='@.+')}&{query}"
        return f"mailto:{quote(self.to, safe='@.+')}?{query}"


def next_step(entry: Entry) -> NextStep:
    row = entry.row
    mentor, mentee = row["mentor_name"], row["mentee_name"]
    subject = "Checking in on your mentoring"
    if row["rule_status"] == "not_started":
        body = (
            f"Hello {_first_name(mentor)} and {_first_name(mentee)},\n\nYou were matched "
            f"{row['days_without_meeting']} days ago and have not met yet. Could you find a "
            "first half hour in the next two weeks? Tell me if anything is in the way.\n\nThanks!"
        )
        return NextStep(
            "Write to both: they have not met yet.",
            row["mentor_email"] or row["mentee_email"],
            row["mentee_email"] if row["mentor_email"] else None,
            subject,
            body,
        )
    if row["flagged"]:
        body = (
            f"Hello {_first_name(mentor)},\n\nIt has been {row['days_without_meeting']} days "
            f"since you last met {_first_name(mentee)}. How is it going? Could you plan your "
            "next meeting? Tell me if something gets in the way.\n\nThanks!"
        )
        return NextStep(
            "Write to the mentor: the pair has stopped meeting.",
            row["mentor_email"],
            None,
            subject,
            body,
        )
    if row["overdue_goals"]:
        body = (
            f"Hello {_first_name(mentee)},\n\nYour goal “{row['overdue_title']}” is past its "
            "target date. Is it still right? With your mentor you could set a new date, or "
            "close it and set the next one.\n\nThanks!"
        )
        return NextStep(
            "Write to the mentee about the overdue goal.",
            row["mentee_email"],
            row["mentor_email"],
            "Your mentoring goal",
            body,
        )
    body = (
        f"Hello {_first_name(mentor)},\n\nHow is your mentoring with {_first_name(mentee)} "
        "going? Is there anything I can help with?\n\nThanks!"
    )
    return NextStep(
        "Check in with the mentor: pairs like this one often go quiet.",
        row["mentor_email"],
        None,
        subject,
        body,
    )


def contacted_text(row: Row) -> str:
    if row["contacted_on"] is None:
        return "Not contacted yet."
    text = (
        f"Contacted {row['contacted_on'].isoformat()} by {row['contacted_by']} "
        f"({row['contact_channel'].replace('_', ' ')}, {row['contact_outcome'].replace('_', ' ')})"
    )
    if row["contacts"] > 1:
        text += f"; {row['contacts']} contacts in all"
    return text + "."


# --- the page section -------------------------------------------------------------------------

CSV_HEADER = [
    "Rank",
    "Program",
    "Cohort",
    "Mentor",
    "Mentor e-mail",
    "Mentee",
    "Mentee e-mail",
    "Reasons",
    "Next step",
    "Last contacted",
    "Contacted by",
    "Match",
]


def _csv(entry: Entry, step: NextStep) -> list:
    row = entry.row
    return [
        entry.rank,
        row["program"],
        row["cohort"],
        row["mentor_name"] or "",
        row["mentor_email"] or "",
        row["mentee_name"] or "",
        row["mentee_email"] or "",
        " | ".join(reasons(entry)),
        step.text,
        row["contacted_on"].isoformat() if row["contacted_on"] else "",
        row["contacted_by"] or "",
        row["match_id"],
    ]


def card(entry: Entry, followup_base: str | None) -> str:
    row = entry.row
    step = next_step(entry)
    href = step.mailto()
    write = (
        f'<a class="button" href="{fmt.esc(href)}">Write (prepared message)</a>'
        if href
        else '<span class="no-email">no e-mail on the roster</span>'
    )
    record = (
        f'<a class="button" href="{fmt.esc(followup_base)}/{quote(row["match_id"], safe="")}">'
        "Record follow-up</a>"
        if followup_base
        else ""
    )
    note = (
        f'<span class="note">“{fmt.esc(row["contact_note"])}”</span>' if row["contact_note"] else ""
    )
    contacted_class = "contacted recent" if entry.recently_contacted else "contacted"
    items = "".join(f"<li>{fmt.esc(text)}</li>" for text in reasons(entry))
    attributes = {
        "filter": "rows",
        "program": row["program"],
        "cohort": row["cohort"],
        "mentor": row["mentor_key"],
        "mentor-name": row["mentor_name"] or "",
        "rank": str(entry.rank),
        "csv": json.dumps(_csv(entry, step), default=str),
    }
    data = "".join(f' data-{k}="{fmt.esc(v)}"' for k, v in attributes.items())
    return (
        f'<article class="qcard"{data}>'
        f'<h3><span class="rank">{entry.rank}</span> {fmt.esc(row["mentor_name"])} '
        f"<small>mentor</small> · {fmt.esc(row['mentee_name'])} <small>mentee</small></h3>"
        f'<p class="where">{fmt.esc(row["cohort"])} · match {fmt.esc(row["match_id"])}</p>'
        f'<ul class="reasons">{items}</ul>'
        f'<p class="{contacted_class}">{fmt.esc(contacted_text(row))} {note}</p>'
        f'<p class="next"><strong>Next:</strong> {fmt.esc(step.text)}</p>'
        f'<p class="actions">{write} {record}</p></article>'
    )


def section_html(ctx: Context, queue: list[Entry]) -> str:
    followup_base = f"/followup/{program_slug(ctx.program)}" if ctx.program else None
    if not queue:
        return '<p class="muted">No pair to contact — nice.</p>'
    tools = (
        f'<div class="list-tools"><p class="shown-count" data-count-of="queue" '
        f'data-noun="pairs">All {fmt.count(len(queue))} pairs</p>'
        '<label class="group-toggle"><input type="checkbox" id="group-by-mentor"> '
        "Group by mentor</label>"
        f'<button type="button" class="export" data-export="queue" data-filename="queue.csv" '
        f'data-header="{fmt.esc(json.dumps(CSV_HEADER))}">Export CSV of the pairs shown</button></div>'
    )
    cards = "".join(card(entry, followup_base) for entry in queue[:LIMIT])
    return f'{tools}<div class="queue-list">{cards}</div>'


def explain(ctx: Context, queue: list[Entry]) -> str:
    mentors = len({e.row["mentor_key"] for e in queue})
    recent = sum(e.recently_contacted for e in queue)
    return (
        "Each pair once: flagged by the rule, with overdue goals, or whose forecast band went "
        f"quiet {100 * FORECAST_INCLUDE:.0f}% of the time or more in past months. Most likely to "
        f"go quiet first (the forecast's calibrated band), then flagged pairs, then longest "
        f"without a meeting; pairs contacted in the last {CONTACT_QUIET_DAYS} days go last"
        f"{f' ({recent} now)' if recent else ''}. {fmt.count(len(queue))} pairs, "
        f"{fmt.count(mentors)} mentors"
        + (f"; the first {LIMIT} are listed" if len(queue) > LIMIT else "")
        + ". Personal data: do not forward."
    )


CSS = """
.queue-list { display: grid; gap: 10px; }
.qcard { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: #fff;
  overflow-wrap: anywhere; }
.qcard h3 { margin: 0 0 2px; font-size: 15px; }
.qcard h3 small { font-weight: 400; color: var(--muted); font-size: 11px; text-transform: uppercase; }
.qcard .rank { display: inline-block; min-width: 1.6em; padding: 0 4px; margin-right: 4px;
  border-radius: 4px; background: #1f2933; color: #fff; text-align: center; font-size: 13px; }
.qcard .where { margin: 0 0 4px; font-size: 12px; color: var(--muted); }
.qcard ul.reasons { margin: 4px 0; padding-left: 18px; }
.qcard ul.reasons li { margin: 2px 0; }
.qcard p { margin: 4px 0; }
.qcard .contacted { font-size: 13px; color: var(--muted); }
.qcard .contacted.recent { color: #15803d; font-weight: 600; }
.qcard .note { display: block; font-style: italic; white-space: pre-line; }
.qcard .actions { display: flex; flex-wrap: wrap; gap: 6px; }
.qcard a.button { display: inline-block; padding: 4px 10px; border: 1px solid #cbd5e1;
  border-radius: 6px; text-decoration: none; }
.mentor-head { margin: 12px 0 0; font-size: 14px; }
.group-toggle { font-size: 14px; }
@media (min-width: 900px) { .queue-list { grid-template-columns: 1fr 1fr; } }
"""

# Group by mentor: reorder the cards (a mentor's pairs together, mentors by their most urgent
# pair) and put a heading before each mentor's; unticked, back to the ranked order.
SCRIPT = """
(function () {
  function regroup(on) {
    const list = document.querySelector(".queue-list");
    if (!list) return;
    list.querySelectorAll(".mentor-head").forEach((h) => h.remove());
    const cards = Array.from(list.querySelectorAll(".qcard"));
    const best = {};
    cards.forEach((c) => {
      const r = Number(c.dataset.rank);
      best[c.dataset.mentor] = Math.min(best[c.dataset.mentor] ?? r, r);
    });
    cards.sort((a, b) => on
      ? (best[a.dataset.mentor] - best[b.dataset.mentor]) || (a.dataset.rank - b.dataset.rank)
      : a.dataset.rank - b.dataset.rank);
    let mentor = null;
    cards.forEach((c) => {
      if (on && c.dataset.mentor !== mentor) {
        mentor = c.dataset.mentor;
        const n = cards.filter((x) => x.dataset.mentor === mentor).length;
        const head = document.createElement("h3");
        head.className = "mentor-head";
        head.textContent = `${c.dataset.mentorName} · ${n} pair${n === 1 ? "" : "s"}`;
        list.append(head);
      }
      list.append(c);
    });
    list.style.display = on ? "block" : "";
  }
  document.addEventListener("change", (event) => {
    if (event.target.id === "group-by-mentor") regroup(event.target.checked);
  });
})();
"""


def urgent(queue: list[Entry], n: int = URGENT) -> list[Entry]:
    """The digest's most urgent follow-ups: the first n not contacted recently."""
    return [e for e in queue if not e.recently_contacted][:n]
