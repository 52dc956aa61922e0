"""Feedback: survey item scores, satisfaction, NPS and response rates per cohort and role.

Figures from fewer than k respondents are suppressed in the marts; they read "fewer than k
responses" here, never a blank or a zero.
"""

from __future__ import annotations

from dashboards import fmt, glossary
from dashboards.figures import PALETTE, Axis, Series, category_chart
from dashboards.headline import headline_rows, make_tiles
from dashboards.page import (
    Body,
    Column,
    Context,
    Filter,
    Option,
    Tile,
    chart,
    group_filters,
    key_figures,
    section,
    table,
    tile_groups,
    value_tile,
)
from dashboards.sql import (
    MAX_WAVES,
    RECENT_WAVE,
    SURVEY_GROUPS,
    WAVE_DATES,
    WAVE_ORDER,
    Row,
    fetch,
    in_time_order,
    pivot,
    within,
)
from dashboards.trends import trend_rows, trend_section

TITLE = "Feedback"
LEDE = "What mentees and mentors say in surveys, wave by wave."

TILES = ["satisfaction", "nps", "response"]
KEYS = ("program", "cohort", "survey_id")
ROLES = {"mentee": "mentee", "mentor": "mentor", "(all)": "both"}
ROLE_NAMES = {"mentee": "Mentees", "mentor": "Mentors", "both": "Both roles"}
ITEMS = {
    "guidance": "Guidance",
    "networking": "Networking",
    "skills": "Skills",
    "feedback": "Feedback",
    "communication": "Communication",
    "satisfaction": "Satisfaction",
}

_WAVES = f"SELECT * FROM ({SURVEY_GROUPS}) WHERE {RECENT_WAVE}"

# The waves offered, newest first, with their programs and program-wide responses.
SURVEYS_SQL = f"""
SELECT survey_id, list(DISTINCT program ORDER BY program) AS programs,
    coalesce(sum(responses), 0) AS responses
FROM ({_WAVES})
LEFT JOIN (SELECT program, cohort, survey_id, responses FROM marts.survey_response_rates
           WHERE role = '(all)' AND cohort = '(all)') USING (program, cohort, survey_id)
LEFT JOIN {WAVE_DATES} USING (survey_id)
GROUP BY survey_id ORDER BY max(wave_on) DESC NULLS LAST, {WAVE_ORDER}
"""

_SATISFACTION_BY_ROLE = pivot(
    {
        "sat": "mean",
        "sat_low": within("ci_low", 1, 5),
        "sat_high": within("ci_high", 1, 5),
        "sat_top2": "top2_share",
        "sat_n": "n_respondents",
        "sat_suppressed": "suppressed",
    },
    "role",
    ROLES,
)
_NPS_BY_ROLE = pivot(
    {
        "nps": "nps",
        "nps_low": "nps_ci_low",
        "nps_high": "nps_ci_high",
        "nps_n": "n_respondents",
        "nps_suppressed": "suppressed",
    },
    "role",
    ROLES,
)
_RATES_BY_ROLE = pivot(
    {"rate": "response_rate", "invitations": "invitations", "responses": "responses"},
    "role",
    ROLES,
)
_SCORES_BY_ITEM = pivot(
    {
        "mean": "mean",
        "low": within("ci_low", 1, 5),
        "high": within("ci_high", 1, 5),
        "top2": "top2_share",
        "n": "n_respondents",
        "suppressed": "suppressed",
    },
    "item",
    {item: item for item in ITEMS},
)

# One row per (program, cohort, wave) with satisfaction, NPS and response rate by role.
BY_ROLE_SQL = in_time_order(
    f"""
WITH waves AS ({_WAVES}),
satisfaction AS (
    SELECT program, cohort, survey_id, {_SATISFACTION_BY_ROLE}
    FROM marts.feedback_scores WHERE item = 'satisfaction' GROUP BY ALL
),
nps AS (SELECT program, cohort, survey_id, {_NPS_BY_ROLE} FROM marts.nps GROUP BY ALL),
rates AS (
    SELECT program, cohort, survey_id, {_RATES_BY_ROLE}
    FROM marts.survey_response_rates GROUP BY ALL
)
SELECT * FROM waves
LEFT JOIN satisfaction USING (program, cohort, survey_id)
LEFT JOIN nps USING (program, cohort, survey_id)
LEFT JOIN rates USING (program, cohort, survey_id)
""",
    then="survey_id",
)

# One row per (program, cohort, wave, role) with every item's score.
ITEMS_SQL = in_time_order(
    f"""SELECT program, cohort, survey_id, role, {_SCORES_BY_ITEM}
    FROM marts.feedback_scores
    WHERE {RECENT_WAVE}
    GROUP BY ALL""",
    then="survey_id, role <> '(all)', role",
)


def build(ctx: Context) -> Body:
    rows = fetch(ctx.con, BY_ROLE_SQL)
    items = fetch(ctx.con, ITEMS_SQL)
    trends = trend_rows(ctx)
    k = ctx.k
    return Body(
        filters=[*group_filters(ctx), _survey_filter(ctx)],
        sections=[
            key_figures(
                tile_groups(headline_rows(ctx), make_tiles(ctx, TILES)),
                "Per program and cohort, from its newest wave with enough respondents (named "
                "under each figure), with the change since its previous such wave. The charts "
                f"below show the wave picked above (the {MAX_WAVES} newest are listed).",
            ),
            section(
                "wave",
                "The wave picked above",
                "Satisfaction, NPS and response rate of every group in that wave.",
                tile_groups(rows, lambda row: _tiles(row, k), keys=KEYS, heading=_heading),
                wide=True,
            ),
            section(
                "items",
                "Scores by question",
                "Mean answer (1–5) in bold; below it the 95% interval (a mentor answering for "
                "several mentees counts as one source, so a group of few people gets a wide "
                f"interval), the top-2 box and n. {glossary.TOP_2_BOX} Groups with fewer than "
                f"{k} respondents are suppressed.",
                table(items, _item_columns(k), keys=KEYS, empty="No survey answers yet."),
                wide=True,
            ),
            section(
                "satisfaction",
                "Overall satisfaction by cohort and role",
                "Mean overall satisfaction (1–5); the whisker is the 95% interval.",
                chart(
                    "satisfaction-chart",
                    _role_chart(
                        rows, "sat", Axis("satisfaction (1–5)", fmt.decimal, ".1f", (1, 5)), k
                    ),
                ),
            ),
            section(
                "nps",
                "Net Promoter Score by cohort and role",
                "% promoters (9–10) minus % detractors (0–6), from −100 to +100; the whisker is "
                "the 95% interval (a mentor answering for several mentees counts as one source; "
                "never beyond −100 or +100).",
                chart(
                    "nps-chart",
                    _role_chart(rows, "nps", Axis("NPS", fmt.signed, "+.0f", (-100, 100)), k),
                ),
            ),
            section(
                "response",
                "Survey response rate by cohort and role",
                "Share of invitations answered for the wave picked above; each bar says how "
                "many invitations it rests on.",
                chart("response-chart", _response_chart(rows)),
            ),
            trend_section(
                trends,
                "trend-responses",
                "Survey responses per month",
                "Survey responses submitted in each month, all waves.",
                Series("Responses", "responses"),
                Axis("responses", fmt.count, ",.0f"),
            ),
        ],
    )


def _survey_filter(ctx: Context) -> Filter:
    """The recent waves, newest first; the most answered one is picked at first."""
    waves = fetch(ctx.con, SURVEYS_SQL)
    options = [Option(w["survey_id"], fmt.esc(w["survey_id"]), tuple(w["programs"])) for w in waves]
    busiest = max(waves, key=lambda w: w["responses"], default=None)
    return Filter("survey_id", "Survey wave", options, default=busiest and busiest["survey_id"])


def _heading(row: Row) -> str:
    return f"{fmt.group_label(row)} · {fmt.esc(row['survey_id'])}"


def _tiles(row: Row, k: int) -> list[Tile]:
    return [
        value_tile(
            "Satisfaction",
            row["both_sat"],
            lambda mean: f"{mean:.1f} / 5",
            f"n = {fmt.count(row['both_sat_n'])} respondents",
            "Mean overall satisfaction (1–5)."
            + fmt.interval_sentence(row["both_sat_low"], row["both_sat_high"], fmt.decimal),
            missing=fmt.missing_survey_figure(row["both_sat_suppressed"], k),
        ),
        value_tile(
            "Satisfied (4–5)",
            row["both_sat_top2"],
            fmt.pct,
            f"n = {fmt.count(row['both_sat_n'])} respondents",
            "Share answering 4 or 5 to overall satisfaction.",
            missing=fmt.missing_survey_figure(row["both_sat_suppressed"], k),
        ),
        value_tile(
            "NPS",
            row["both_nps"],
            fmt.signed,
            f"n = {fmt.count(row['both_nps_n'])} respondents",
            "% promoters (9–10) minus % detractors (0–6)."
            + fmt.interval_sentence(row["both_nps_low"], row["both_nps_high"], fmt.signed),
            missing=fmt.missing_survey_figure(row["both_nps_suppressed"], k),
        ),
        value_tile(
            "Response rate",
            row["both_rate"],
            fmt.pct,
            f"{fmt.count(row['both_responses'])} of n = {fmt.count(row['both_invitations'])} invitations",
            "Share of invitations answered.",
            missing="no invitations",
        ),
    ]


def _role_chart(rows: list[Row], measure: str, axis: Axis, k: int):
    """Dots with 95% intervals per cohort, one series per role; suppressed ones say so."""

    def note(row: Row, series: Series) -> str | None:
        return fmt.fewer_than(k) if row[f"{series.value}_suppressed"] else None

    return category_chart(
        rows,
        [
            Series(
                ROLE_NAMES[role],
                f"{role}_{measure}",
                color,
                kind="dot",
                low=f"{role}_{measure}_low",
                high=f"{role}_{measure}_high",
            )
            for role, color in zip(ROLES.values(), PALETTE, strict=False)
        ],  # fmt: skip
        axis,
        keys=KEYS,
        detail=lambda row, series: f"<br>n = {fmt.count(row[f'{series.value}_n'])} respondents",
        note=note,
    )


def _response_chart(rows: list[Row]):
    def detail(row: Row, series: Series) -> str:
        role = series.value.removesuffix("_rate")
        return f"<br>{fmt.count(row[f'{role}_responses'])} of {fmt.count(row[f'{role}_invitations'])} invitations"

    figure = category_chart(
        rows,
        [
            Series(ROLE_NAMES[role], f"{role}_rate", color)
            for role, color in zip(ROLES.values(), PALETTE, strict=False)
        ],
        Axis("response rate", fmt.pct, ".0%", (0, 1)),
        keys=KEYS,
        detail=detail,
    )
    if figure is None:
        return None
    # Each bar names its base ("80% of 5"), so a full bar on a handful of invitations says so.
    for trace, role in zip(figure.data, ROLES.values(), strict=True):
        trace.text = [
            ""
            if row[f"{role}_rate"] is None
            else f"{fmt.pct(row[f'{role}_rate'])} of {fmt.count(row[f'{role}_invitations'])}"
            for row in rows
        ]
        trace.textposition = "outside"
        trace.cliponaxis = False
        trace.textfont = {"size": 10}
    # Room right of 100% for the words, with ticks only up to 100%.
    figure.update_xaxes(range=[0, 1.3], tickvals=[0, 0.25, 0.5, 0.75, 1])
    return figure


def _item_columns(k: int) -> list[Column]:
    role_names = {role: ROLE_NAMES[prefix] for role, prefix in ROLES.items()}
    return [
        Column("Program", lambda r: fmt.esc(r["program"])),
        Column("Cohort", lambda r: fmt.cohort_name(r["cohort"])),
        Column("Role", lambda r: role_names.get(r["role"], fmt.esc(r["role"]))),
        *(
            Column(
                name,
                lambda r, item=item: _item_cell(r, item, k),
                about=f"Answers to “{name}” (1–5)",
            )
            for item, name in ITEMS.items()
        ),
    ]


def _item_cell(row: Row, item: str, k: int) -> str:
    n = f"n = {fmt.count(row[f'{item}_n'])}"
    if row[f"{item}_suppressed"]:
        return f'<span class="muted">{fmt.fewer_than(k)}</span><small>{n}</small>'
    mean = row[f"{item}_mean"]
    if mean is None:
        return fmt.MISSING
    interval = fmt.interval(row[f"{item}_low"], row[f"{item}_high"], fmt.decimal)
    top2 = f"4–5: {fmt.pct(row[f'{item}_top2'])}"
    return (
        f"<b>{fmt.decimal(mean)}</b><small>{' · '.join(filter(None, [interval, top2, n]))}</small>"
    )
