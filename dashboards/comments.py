"""Survey comments, verbatim but unattributed: restricted (program managers only).

A group is (program, wave, role). Its comments are shown only when the group has at least k
respondents, in an order that looks random but is fixed for the as-of date, with every e-mail
address and every part of a roster name masked. Nothing says who wrote a comment, when, or
about which match.
"""

from __future__ import annotations

from dashboards import fmt
from dashboards.page import Body, Context, Filter, Option, section
from dashboards.sql import MAX_WAVES, Row, fetch

TITLE = "Comments"
LEDE = "What participants wrote in the surveys, unattributed, with names and e-mails masked."

# A page stays readable at scale; the order is random, so the first ones are a fair sample.
MAX_PER_GROUP = 200
EMAIL_MASK = "[e-mail]"
NAME_MASK = "[name]"
# E-mail addresses go first (their local part often is a name), then name parts, word by word.
EMAIL_PATTERN = r"[\p{L}\p{N}._%+'-]+@[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)+"
LETTERS_PATTERN = r"[\p{L}\p{M}]+"
WORDS_PATTERN = r"[\p{L}\p{M}]+|[^\p{L}\p{M}]+"

# Groups and their respondents come from the kept responses (core.survey_responses: the latest
# answer per respondent, seen by D) of each program's newest MAX_WAVES waves (a wave dated by
# its last response); the comment text from staging, where it stays.
SOURCES = f"""
kept AS (
    SELECT * FROM (
        SELECT r.response_id, r.survey_id, r.role, r.respondent_key, m.program,
            dense_rank() OVER (PARTITION BY m.program ORDER BY r.wave_on DESC, r.survey_id DESC)
                AS wave_rank
        FROM (SELECT *, max(submitted_on) OVER (PARTITION BY survey_id) AS wave_on
              FROM core.survey_responses) r
        JOIN marts.match_cadence m USING (match_id)
    ) WHERE wave_rank <= {MAX_WAVES}
),
texts AS (
    SELECT response_id, trim(any_value(comment)) AS comment
    FROM staging.responses GROUP BY response_id
)"""

GROUPS_SQL = f"""
WITH {SOURCES}
SELECT program, survey_id, role,
    count(DISTINCT respondent_key) AS respondents,
    count(*) FILTER (WHERE coalesce(t.comment, '') <> '') AS comments
FROM kept k LEFT JOIN texts t USING (response_id)
GROUP BY program, survey_id, role
ORDER BY program, min(wave_rank), role
"""

# Comments of groups with at least $k respondents, masked, in a per-build order ($seed).
COMMENTS_SQL = f"""
WITH {SOURCES},
shown_groups AS (
    SELECT program, survey_id, role FROM kept
    GROUP BY ALL HAVING count(DISTINCT respondent_key) >= $k
),
picked AS (
    SELECT k.program, k.survey_id, k.role, k.response_id,
        regexp_replace(t.comment, $email_pattern, $email_mask, 'g') AS text,
        row_number() OVER (PARTITION BY k.program, k.survey_id, k.role
                           ORDER BY hash(k.response_id || $seed)) AS position
    FROM kept k JOIN shown_groups USING (program, survey_id, role)
    JOIN texts t USING (response_id)
    WHERE coalesce(t.comment, '') <> ''
    QUALIFY position <= {MAX_PER_GROUP}
),
pieces AS (
    SELECT response_id, unnest(parts) AS piece, generate_subscripts(parts, 1) AS seq
    FROM (SELECT response_id, regexp_extract_all(text, $words_pattern) AS parts FROM picked)
),
-- Every part of every roster name, two letters or more; parts of three letters or more match
-- in any case ("ada" too), two-letter ones only as written ("Li", not "li" or "an").
name_parts AS (
    SELECT DISTINCT part
    FROM restricted.participant_identity,
        unnest(regexp_extract_all(full_name, $letters_pattern)) AS p(part)
    WHERE length(part) >= 2
),
masked AS (
    SELECT response_id, string_agg(
        CASE WHEN EXISTS (
            SELECT 1 FROM name_parts n
            WHERE lower(n.part) = lower(piece) AND (length(piece) >= 3 OR n.part = piece)
        ) THEN $name_mask ELSE piece END, '' ORDER BY seq) AS text
    FROM pieces GROUP BY response_id
)
SELECT p.program, p.survey_id, p.role, m.text
FROM picked p JOIN masked m USING (response_id)
ORDER BY p.program, p.survey_id, p.role, p.position
"""


def build(ctx: Context) -> Body:
    groups = ctx.mine(fetch(ctx.con, GROUPS_SQL))
    comments = ctx.mine(
        fetch(
            ctx.con,
            COMMENTS_SQL,
            k=ctx.k,
            seed=ctx.as_of.isoformat(),
            email_pattern=EMAIL_PATTERN,
            email_mask=EMAIL_MASK,
            words_pattern=WORDS_PATTERN,
            letters_pattern=LETTERS_PATTERN,
            name_mask=NAME_MASK,
        )
    )
    by_group: dict[tuple[str, str, str], list[str]] = {}
    for row in comments:
        by_group.setdefault((row["program"], row["survey_id"], row["role"]), []).append(row["text"])
    blocks = "".join(_group_html(row, by_group, ctx.k) for row in groups)
    return Body(
        filters=_filters(groups),
        sections=[
            section(
                "comments",
                "Comments by program, wave and role",
                f"Each program's newest {MAX_WAVES} waves. Shown only for groups of at least "
                f"{ctx.k} respondents, in random order, without who wrote them or when; names "
                "and e-mail addresses are masked. "
                "Personal data: for program managers only, do not forward.",
                blocks or '<p class="muted">No survey responses yet.</p>',
                wide=True,
            )
        ],
        css=CSS,
    )


def fewer_than_k(min_group_size: int) -> str:
    return f"fewer than {min_group_size} respondents"


def _group_html(row: Row, by_group: dict[tuple[str, str, str], list[str]], k: int) -> str:
    texts = by_group.get((row["program"], row["survey_id"], row["role"]), [])
    keys = "".join(f' data-{key}="{fmt.esc(row[key])}"' for key in ("program", "survey_id", "role"))
    heading = f"{fmt.esc(row['program'])} · {fmt.esc(row['survey_id'])} · {fmt.esc(row['role'])}s"
    if row["respondents"] < k:
        content = (
            f'<p class="muted suppressed">{fewer_than_k(k)}: comments are not shown '
            "to protect anonymity.</p>"
        )
        counts = ""
    else:
        more = row["comments"] - len(texts)
        # The same words written by several respondents are listed once, with how many wrote them.
        counted: dict[str, int] = {}
        for text in texts:
            key = " ".join(text.split()).casefold()
            counted[key] = counted.get(key, 0) + 1
        firsts: dict[str, str] = {}
        for text in texts:
            firsts.setdefault(" ".join(text.split()).casefold(), text)
        items = "".join(
            f"<li>{fmt.esc(text)}"
            + (f' <span class="times">×{counted[key]}</span>' if counted[key] > 1 else "")
            + "</li>"
            for key, text in firsts.items()
        )
        content = (
            f'<ul class="comments">{items}</ul>' if texts else '<p class="muted">No comments.</p>'
        )
        if more > 0:
            content += f'<p class="muted">and {fmt.count(more)} more not shown.</p>'
        counts = (
            f" <small>{fmt.count(row['respondents'])} respondents, "
            f"{fmt.count(row['comments'])} comments</small>"
        )
    return (
        f'<div class="comment-group" data-filter="rows"{keys}>'
        f"<h3>{heading}{counts}</h3>{content}</div>"
    )


def _filters(groups: list[Row]) -> list[Filter]:
    programs = sorted({row["program"] for row in groups})
    waves: dict[str, list[str]] = {}
    for row in groups:  # already newest wave first
        waves.setdefault(row["survey_id"], [])
        if row["program"] not in waves[row["survey_id"]]:
            waves[row["survey_id"]].append(row["program"])
    roles = sorted({row["role"] for row in groups})
    return [
        Filter("program", "Program", [Option(p, fmt.esc(p)) for p in programs], "All programs"),
        Filter(
            "survey_id",
            "Wave",
            [Option(w, fmt.esc(w), tuple(ps)) for w, ps in waves.items()],
            "All waves",
        ),
        Filter("role", "Role", [Option(r, fmt.esc(r) + "s") for r in roles], "Both roles"),
    ]


# Page-specific styles, inlined by the page (see build.py).
CSS = """
.comment-group + .comment-group { margin-top: 14px; padding-top: 10px; border-top: 1px solid var(--line); }
.comment-group h3 { margin: 0 0 6px; font-size: 14px; }
.comment-group h3 small { font-weight: 400; color: var(--muted); }
ul.comments { margin: 0; padding-left: 18px; }
ul.comments li { margin: 4px 0; white-space: pre-line; overflow-wrap: anywhere; }
ul.comments .times { font-weight: 600; color: var(--muted); white-space: nowrap; }
"""
