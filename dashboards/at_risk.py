"""At-risk pairs and overdue goals: who to contact. Restricted: names and e-mails, joined in
from restricted.participant_identity (see build.py for where the page is written)."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote

from dashboards import fmt, glossary, queue
from dashboards.page import Body, Column, Context, Tile, group_filters, section, table, tile_groups
from dashboards.sql import Row, fetch, per_group, table_exists

TITLE = "Who to contact"
LEDE = "One queue of the pairs to contact, ranked, with reasons and a prepared message; then the lists behind it."

LIST_LIMIT = 500
STATUS_NAMES = {"not_started": "Not started", "lapsed": "Lapsed", "at_risk": "At risk"}
NO_EMAIL = "no e-mail on the roster"
MAIL_SUBJECT = "Checking in on your mentoring"

COUNTS_SQL = per_group(
    ", ".join(
        [
            "count(*) FILTER (WHERE is_active) AS active",
            *(
                f"count(*) FILTER (WHERE status = '{status}') AS {status}"
                for status in STATUS_NAMES
            ),
        ]
    ),
    "marts.match_cadence",
)

PEOPLE = """
    mentor.full_name AS mentor_name, nullif(trim(mentor.email), '') AS mentor_email,
    mentee.full_name AS mentee_name, nullif(trim(mentee.email), '') AS mentee_email"""
IDENTITIES = """
LEFT JOIN restricted.participant_identity mentor ON mentor.participant_key = m.mentor_key
LEFT JOIN restricted.participant_identity mentee ON mentee.participant_key = m.mentee_key"""

# Worst first: longest without a meeting (pairs that never met count from their match date).
# $ids: only these matches (NULL: all); $limit: at most this many rows (NULL: all).
PAIRS_SQL = f"""
SELECT m.*,
    coalesce(m.days_since_last_meeting, m.active_days) AS days_without_meeting, {PEOPLE},
    count(*) OVER () AS total
FROM marts.at_risk_matches m {IDENTITIES}
WHERE ($ids IS NULL OR m.match_id IN (SELECT unnest($ids)))
    AND ($program IS NULL OR m.program = $program)
ORDER BY days_without_meeting DESC NULLS LAST, m.match_id
LIMIT $limit
"""

# Open goals past their target date, of pairs still active (ended pairs cannot act on them).
# $ids: only these goals (NULL: all).
GOALS_SQL = f"""
SELECT g.goal_id, g.match_id, g.program, g.cohort, t.title, g.horizon, g.target_date,
    g.progress_pct, date_diff('day', g.target_date, CAST($as_of AS DATE)) AS days_overdue,
    {PEOPLE}, count(*) OVER () AS total
FROM marts.goal_status g JOIN marts.match_cadence m USING (match_id)
LEFT JOIN restricted.goal_texts t USING (goal_id) {IDENTITIES}
WHERE g.is_overdue AND m.is_active AND ($ids IS NULL OR g.goal_id IN (SELECT unnest($ids)))
    AND ($program IS NULL OR g.program = $program)
ORDER BY days_overdue DESC, g.goal_id
LIMIT $limit
"""


def pairs(ctx: Context, ids: list[str] | None = None, limit: int | None = LIST_LIMIT) -> list[Row]:
    """At-risk pairs with names (the page's list; the digest picks its new ones by `ids`)."""
    return fetch(ctx.con, PAIRS_SQL, ids=ids, limit=limit, program=ctx.program)


def goals(ctx: Context, ids: list[str] | None = None, limit: int | None = LIST_LIMIT) -> list[Row]:
    """Overdue goals of active pairs with the pair's names."""
    return fetch(ctx.con, GOALS_SQL, as_of=ctx.as_of, ids=ids, limit=limit, program=ctx.program)


def build(ctx: Context) -> Body:
    counts = ctx.mine(fetch(ctx.con, COUNTS_SQL))
    pair_rows = pairs(ctx)
    goal_rows = goals(ctx)
    ranked = queue.entries(ctx)
    return Body(
        filters=group_filters(ctx),
        sections=[
            section(
                "queue",
                "Pairs to contact, most urgent first",
                queue.explain(ctx, ranked),
                queue.section_html(ctx, ranked),
                wide=True,
            ),
            section(
                "kpis",
                "Pairs needing attention",
                "Pick a program and cohort above; “All cohorts” shows the program as a whole.",
                tile_groups(counts, lambda row: _tiles(row, ctx.run["lapse_days"])),
                wide=True,
            ),
            section(
                "pairs",
                "Pairs to contact",
                f"Longest without a meeting first{_limit_note(pair_rows)}. Click a name to write, a "
                f"column heading to sort. {_missing_note(pair_rows)}Personal data: do not forward.",
                _listing("pairs", pair_rows, _pair_columns(), _pair_csv, "pairs", "at-risk-pairs"),
                wide=True,
            ),
            section(
                "overdue",
                "Overdue goals of active pairs",
                f"Open goals past their target date, most overdue first{_limit_note(goal_rows)}; "
                "goals of ended pairs are not listed.",
                _listing(
                    "overdue", goal_rows, _goal_columns(), _goal_csv, "goals", "overdue-goals"
                ),
                wide=True,
            ),
            *forecast_sections(ctx),
        ],
        css=CSS + queue.CSS,
        script=SCRIPT + queue.SCRIPT,
    )


def _limit_note(rows: list[Row]) -> str:
    total = rows[0]["total"] if rows else 0
    return f" (the first {LIST_LIMIT} of {fmt.count(total)})" if total > LIST_LIMIT else ""


def _missing_note(pairs: list[Row]) -> str:
    missing = sum((row["mentor_email"] is None) + (row["mentee_email"] is None) for row in pairs)
    if not missing:
        return ""
    people = "person has" if missing == 1 else "people have"
    return f"{fmt.count(missing)} {people} no e-mail on the roster (flagged). "


def _listing(
    section_id: str,
    rows: list[Row],
    columns: list[Column],
    csv_row: Callable[[Row], list],
    noun: str,
    file_stem: str,
) -> str:
    """A sortable table with a count that follows the filter and a CSV export of what it shows."""
    if not rows:
        return table(rows, columns, empty=f"No {noun} to list — nice.")
    header = [name for name, _ in CSV_COLUMNS[section_id]]
    tools = (
        f'<div class="list-tools"><p class="shown-count" data-count-of="{section_id}" '
        f'data-noun="{noun}">All {fmt.count(len(rows))} {noun}</p>'
        f'<button type="button" class="export" data-export="{section_id}" '
        f'data-filename="{file_stem}.csv" data-header="{fmt.esc(json.dumps(header))}">'
        "Export CSV of the rows shown</button></div>"
    )
    listing = table(
        rows,
        columns,
        sortable=True,
        row_data=lambda row: {"csv": json.dumps(csv_row(row), default=str)},
    )
    return f'{tools}<div class="sticky-first">{listing}</div>'


def _tiles(row: Row, lapse_days: int | None) -> list[Tile]:
    lapse = f"more than {lapse_days} days" if lapse_days else "longer than the lapse setting"
    about = {
        "not_started": "Matched past the grace period, no meeting held yet.",
        "lapsed": f"No meeting for {lapse}.",
        "at_risk": "Gap since last meeting over twice the target interval.",
    }
    return [
        Tile(
            "Needing attention",
            fmt.count(sum(row[status] for status in STATUS_NAMES)),
            f"of n = {fmt.count(row['active'])} active pairs",
            "Not started, lapsed or at risk.",
        ),
        *(
            Tile(
                name,
                fmt.count(row[status]),
                f"of n = {fmt.count(row['active'])} active pairs",
                about[status],
            )
            for status, name in STATUS_NAMES.items()
        ),
    ]


def mail_link(email: str | None, text: str) -> str:
    """A mailto link, or the flag saying the roster has no e-mail."""
    if email is None:
        return f'<span class="no-email">{NO_EMAIL}</span>'
    href = f"mailto:{quote(email, safe='@.+')}?subject={quote(MAIL_SUBJECT)}"
    return f'<a href="{fmt.esc(href)}">{text}</a>'


def pair_cell(row: Row) -> str:
    """Mentor and mentee, each a mailto link with the address below it, or flagged."""
    return "".join(
        f'<span class="person"><small>{role}</small>{fmt.esc(row[f"{role}_name"])} '
        f"{mail_link(row[f'{role}_email'], fmt.esc(row[f'{role}_email']))}</span>"
        for role in ("mentor", "mentee")
    )


def _no_email(row: Row) -> bool:
    return row["mentor_email"] is None or row["mentee_email"] is None


def _pair_column() -> Column:
    return Column(
        "Pair", pair_cell, lambda r: r["mentor_name"], warn=_no_email, about="Mentor and mentee."
    )


def _pair_columns() -> list[Column]:
    return [
        _pair_column(),
        Column(
            "Status",
            lambda r: STATUS_NAMES.get(r["status"], fmt.esc(r["status"])),
            lambda r: r["status"],
        ),
        Column(
            "Days without meeting",
            lambda r: fmt.count(r["days_without_meeting"]),
            lambda r: r["days_without_meeting"],
            numeric=True,
            about="Days since the last held meeting, or since matching if the pair never met.",
        ),
        Column("Reason", lambda r: f'<span class="wrap">{fmt.esc(r["reason"])}</span>'),
        Column(
            "Last meeting",
            lambda r: fmt.date(r["last_meeting_on"]) if r["last_meeting_on"] else "never",
            lambda r: fmt.date(r["last_meeting_on"]) if r["last_meeting_on"] else None,
        ),
        Column("Program", lambda r: fmt.esc(r["program"]), lambda r: r["program"]),
        Column("Cohort", lambda r: fmt.esc(r["cohort"]), lambda r: r["cohort"]),
        Column(
            "Meetings held",
            lambda r: fmt.count(r["meetings_held"]),
            lambda r: r["meetings_held"],
            numeric=True,
        ),
        Column(
            "Target / month",
            lambda r: fmt.decimal(r["target_per_month"]),
            lambda r: r["target_per_month"],
            numeric=True,
        ),
        Column(
            "Matched on", lambda r: fmt.date(r["matched_on"]), lambda r: fmt.date(r["matched_on"])
        ),
    ]


def _goal_columns() -> list[Column]:
    return [
        _pair_column(),
        Column("Goal", lambda r: f'<span class="wrap">{fmt.esc(r["title"])}</span>'),
        Column(
            "Days overdue",
            lambda r: fmt.count(r["days_overdue"]),
            lambda r: r["days_overdue"],
            numeric=True,
        ),
        Column(
            "Target date",
            lambda r: fmt.date(r["target_date"]),
            lambda r: fmt.date(r["target_date"]),
        ),
        Column(
            "Progress",
            lambda r: fmt.percent_points(r["progress_pct"]),
            lambda r: r["progress_pct"],
            numeric=True,
        ),
        Column("Program", lambda r: fmt.esc(r["program"]), lambda r: r["program"]),
        Column("Cohort", lambda r: fmt.esc(r["cohort"]), lambda r: r["cohort"]),
    ]


PEOPLE_CSV = [
    ("Mentor", "mentor_name"),
    ("Mentor e-mail", "mentor_email"),
    ("Mentee", "mentee_name"),
    ("Mentee e-mail", "mentee_email"),
]
# The export's columns: (header, row key), raw values rather than the cells' HTML.
CSV_COLUMNS = {
    "pairs": [
        ("Program", "program"),
        ("Cohort", "cohort"),
        *PEOPLE_CSV,
        ("Status", "status"),
        ("Reason", "reason"),
        ("Days without meeting", "days_without_meeting"),
        ("Last meeting", "last_meeting_on"),
        ("Meetings held", "meetings_held"),
        ("Target per month", "target_per_month"),
        ("Matched on", "matched_on"),
        ("Match", "match_id"),
    ],
    "overdue": [
        ("Program", "program"),
        ("Cohort", "cohort"),
        *PEOPLE_CSV,
        ("Goal", "title"),
        ("Target date", "target_date"),
        ("Days overdue", "days_overdue"),
        ("Progress %", "progress_pct"),
        ("Match", "match_id"),
        ("Goal id", "goal_id"),
    ],
}


def _pair_csv(row: Row) -> list:
    return ["" if row[key] is None else row[key] for _, key in CSV_COLUMNS["pairs"]]


def _goal_csv(row: Row) -> list:
    return ["" if row[key] is None else row[key] for _, key in CSV_COLUMNS["overdue"]]


# The table's first column stays in view when the table scrolls sideways (phones); the page
# itself never does.
CSS = """
.list-tools { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between;
  gap: 6px 12px; margin: 0 0 8px; }
.shown-count { margin: 0; font-weight: 600; }
button.export { font: inherit; padding: 4px 10px; border: 1px solid #cbd5e1; border-radius: 6px;
  background: #fff; cursor: pointer; }
.sticky-first .table-wrap { max-height: 75vh; }
.sticky-first td { white-space: nowrap; }
.sticky-first th:first-child, .sticky-first td:first-child { position: sticky; left: 0;
  z-index: 1; background: #fff; white-space: normal; min-width: 10em; max-width: 15em;
  overflow-wrap: anywhere; box-shadow: 1px 0 0 var(--line); }
.sticky-first th:first-child { z-index: 3; background: #f8fafc; }
@media (min-width: 800px) {
  .sticky-first th:first-child, .sticky-first td:first-child { min-width: 17em; max-width: 22em; }
}
.sticky-first td.warn:first-child { background: #fff7e6; }
.sticky-first .wrap { display: block; min-width: 14em; white-space: normal; }
.person { display: block; }
.person + .person { margin-top: 4px; }
.person small { display: inline; margin-right: 4px; text-transform: uppercase; font-size: 11px; }
.person a { display: block; font-size: 12px; overflow-wrap: anywhere; }
.no-email { display: block; font-size: 12px; font-weight: 600; color: var(--amber); }
"""

# The count above each list follows the filter; the export writes the rows the filter shows,
# in their current order, as a file made in the browser (nothing leaves the machine).
SCRIPT = """
(function () {
  function bodyRows(id) {
    const table = document.querySelector(`#${id} table`);
    if (table) return Array.from(table.tBodies[0].rows);
    return Array.from(document.querySelectorAll(`#${id} [data-csv]`));  // the queue's cards
  }
  function updateCounts() {
    document.querySelectorAll("[data-count-of]").forEach((el) => {
      const rows = bodyRows(el.dataset.countOf);
      const shown = rows.filter((row) => !row.hidden).length;
      el.textContent = shown === rows.length
        ? `All ${rows.length} ${el.dataset.noun}` : `${shown} of ${rows.length} ${el.dataset.noun}`;
    });
  }
  function csvCell(value) {
    let text = String(value);
    if (/^[=+\\-@\\t\\r]/.test(text)) text = "'" + text;  // never a formula in a spreadsheet
    return /[",\\r\\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }
  function exportCsv(button) {
    const rows = bodyRows(button.dataset.export).filter((row) => !row.hidden);
    const lines = [JSON.parse(button.dataset.header), ...rows.map((row) => JSON.parse(row.dataset.csv))]
      .map((cells) => cells.map(csvCell).join(","));
    const blob = new Blob(["\\ufeff" + lines.join("\\r\\n") + "\\r\\n"], { type: "text/csv;charset=utf-8" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = button.dataset.filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }
  document.addEventListener("change", updateCounts);
  document.addEventListener("DOMContentLoaded", updateCounts);
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-export]");
    if (button) exportCsv(button);
  });
})();
"""


# --- Early warning (issue 14, docs/model_card.md): the forecast beside the rule ------------

# Every active pair, highest forecast first (marts.match_risk.risk_rank; with no model the
# rank follows the rule).
FORECAST_SQL = f"""
SELECT m.*, {PEOPLE}, count(*) OVER () AS total
FROM marts.match_risk m {IDENTITIES}
WHERE $program IS NULL OR m.program = $program
ORDER BY m.risk_rank
LIMIT $limit
"""
BACKTEST_SQL = "SELECT * FROM marts.risk_backtest ORDER BY test_month"
RULE_STATUS_NAMES = {**STATUS_NAMES, "on_track": "On track", "too_early": "Too early"}


def forecast_sections(ctx: Context) -> list[str]:
    """The forecast list and the "how good is this warning" panel (none before the early
    warning has run)."""
    if not table_exists(ctx.con, "marts.match_risk"):
        return []
    rows = fetch(ctx.con, FORECAST_SQL, limit=LIST_LIMIT, program=ctx.program)
    backtest = fetch(ctx.con, BACKTEST_SQL) if table_exists(ctx.con, "marts.risk_backtest") else []
    fitted = bool(rows) and rows[0]["model_status"] == "fitted"
    note = fmt.esc(rows[0]["model_note"]) if rows else ""
    if fitted:
        explain = (
            "How often pairs with a forecast like this one closed early or held no meeting in the "
            "next 60 days in past months (the back-test's observed rate for the forecast's band, "
            f"not a raw probability), highest first{_limit_note(rows)}, with what pushes it up "
            f"and the rule's status beside it. Model {note}. A prompt to check in, not a verdict "
            "on anyone."
        )
    else:
        explain = (
            f"No forecast yet — {note}. Pairs are listed by the rule: flagged ones first, "
            "longest without a meeting first."
        )
    return [
        section(
            "forecast",
            "Early warning: the next 60 days",
            explain,
            table(
                rows,
                _forecast_columns(fitted, queue.bands(ctx)),
                sortable=True,
                empty="No active pairs.",
            ),
            wide=True,
        ),
        section(
            "warning-quality",
            "How good is this warning",
            "Back-test on the program's own history: at each month end, a model fitted only on "
            "what was known then forecast the next 60 days. Precision: share of flagged pairs "
            "that did close early or go quiet; recall: share of those pairs that were flagged. "
            "The model is judged flagging as many pairs as the rule did.",
            _backtest_panel(backtest),
            wide=True,
        ),
    ]


def _band_text(probability: float | None, bands: list[queue.Band]) -> str:
    band = queue.band_of(probability, bands)
    if band is None:
        return '<span class="muted">not back-tested</span>'
    return f"{fmt.pct(band.observed)} <small>(n = {fmt.count(band.matches)})</small>"


def _forecast_columns(fitted: bool, bands: list[queue.Band]) -> list[Column]:
    columns = [
        Column("Rank", lambda r: fmt.count(r["risk_rank"]), lambda r: r["risk_rank"], numeric=True),
        _pair_column(),
    ]
    if fitted:
        columns.append(
            Column(
                "Forecast band",
                lambda r: _band_text(r["probability"], bands),
                lambda r: r["probability"],
                numeric=True,
                about="The share of pairs given a forecast in the same band in the back-test's "
                "months that closed early or held no meeting in the next 60 days (calibrated), "
                "not the model's raw probability.",
            )
        )
    return [
        *columns,
        Column(
            "Rule status",
            lambda r: RULE_STATUS_NAMES.get(r["rule_status"], fmt.esc(r["rule_status"])),
            lambda r: r["rule_status"],
        ),
        Column("Why", lambda r: f'<span class="wrap">{fmt.esc(r["reasons"])}</span>'),
        Column("Program", lambda r: fmt.esc(r["program"]), lambda r: r["program"]),
        Column("Cohort", lambda r: fmt.esc(r["cohort"]), lambda r: r["cohort"]),
    ]


def _backtest_panel(rows: list[Row]) -> str:
    tested = [r for r in rows if r["model_status"] == "fitted"]
    if not tested:
        reason = fmt.esc(rows[-1]["model_note"]) if rows else "the early warning has not run"
        return f'<p class="muted">Not enough history to test a model yet ({reason}).</p>'
    flagged = sum(r["flagged"] for r in tested)
    hits = {
        who: sum(round(r[f"{who}_precision"] * r["flagged"]) for r in tested if r["flagged"])
        for who in ("model", "rule")
    }
    summary = (
        f"<p>Over {fmt.count(len(tested))} tested month{'' if len(tested) == 1 else 's'}, "
        f"flagging {fmt.count(flagged)} pairs: "
        f"the model was right for {fmt.pct(hits['model'] / flagged if flagged else None)}"
        f", the rule for {fmt.pct(hits['rule'] / flagged if flagged else None)}.</p>"
    )
    columns = [
        Column("Month end", lambda r: fmt.date(r["test_month"])),
        Column("Pairs", lambda r: fmt.count(r["matches"]), numeric=True),
        Column("Closed early or went quiet", lambda r: fmt.count(r["positives"]), numeric=True),
        Column(
            "AUC",
            lambda r: "—" if r["auc"] is None else f"{r['auc']:.2f}",
            numeric=True,
            about=glossary.AUC,
        ),
        Column(
            "Brier",
            lambda r: "—" if r["brier"] is None else f"{r['brier']:.3f}",
            numeric=True,
            about=glossary.BRIER,
        ),
        Column("Flagged", lambda r: fmt.count(r["flagged"]), numeric=True),
        Column("Model precision", lambda r: fmt.pct(r["model_precision"]), numeric=True),
        Column("Rule precision", lambda r: fmt.pct(r["rule_precision"]), numeric=True),
        Column("Model recall", lambda r: fmt.pct(r["model_recall"]), numeric=True),
        Column("Rule recall", lambda r: fmt.pct(r["rule_recall"]), numeric=True),
    ]
    terms = f'<p class="explain">{glossary.AUC} {glossary.BRIER}</p>'
    return summary + terms + table(rows, columns, keys=()) + _calibration(tested[-1])


def _calibration(row: Row) -> str:
    """The latest tested month's calibration table, as the back-test stored it."""
    bins = json.loads(row["calibration"])
    columns = [
        Column("Forecast", lambda b: f"{100 * b['bin_low']:.0f}–{100 * b['bin_high']:.0f}%"),
        Column("Pairs", lambda b: fmt.count(b["matches"]), numeric=True),
        Column("Mean forecast", lambda b: fmt.pct(b["mean_probability"]), numeric=True),
        Column("Happened", lambda b: fmt.pct(b["observed_rate"]), numeric=True),
    ]
    return (
        f"<h3>Calibration, month end {fmt.date(row['test_month'])}</h3>"
        f'<p class="explain">{glossary.CALIBRATION}</p>' + table(bins, columns, keys=())
    )
