{#
Disclosure control, the one rule for every survey-derived figure (METRICS.md, feedback_scores
"Complementary suppression"): size, then complementary suppression to a fixed point.

`cells` names a relation (a CTE of the calling model) with one row per published group:
  respondents      distinct respondents of the group (the k test and the tie-breaks); a row
                   with 0 has no figure: it is no group, neither shown nor suppressed
                   (suppressed stays NULL) and no sibling of any
  role, role_siblings      mentor / mentee / '(all)' (NULL when the table has no role split)
                           and the key shared by a group's role siblings: every other
                           dimension, cohort included
  cohort, cohort_siblings  cohort or '(all)' and the key shared by a group's cohort
                           siblings: every other dimension, role included
  suppressed       any value; returned decided. The model then blanks suppressed figures.
Returns a query of the same rows and columns.

The fixed point is unrolled `passes` times (each pass: role siblings, then cohort siblings;
a settled pass changes nothing, so extra passes are harmless). One more pass checks that it
settled: if it would still change a row, the model fails (and keeps its previous content)
rather than show a figure that can be recovered. Tests need at most 3 passes.
#}
{% macro disclosure_control(cells, passes=10) %}
WITH dc_pass_0 AS (
    -- Size: fewer than k respondents.
    SELECT * REPLACE (
        CASE WHEN respondents > 0 THEN respondents < getvariable('min_group_size') END AS suppressed
    )
    FROM {{ cells }}
)
{%- for i in range(1, passes + 2) %},
{%- set previous = 'dc_settled' if i == passes + 1 else 'dc_pass_' ~ (i - 1) %}
-- (1) Role siblings: when one of mentor/mentee is suppressed and the other exists, suppress it.
dc_roles_{{ i }} AS (
    SELECT * REPLACE (
        CASE
            WHEN NOT suppressed AND role IN ('mentor', 'mentee')
                AND coalesce(bool_or(suppressed) FILTER (WHERE role IN ('mentor', 'mentee'))
                    OVER (PARTITION BY role_siblings), false)
                THEN true
            ELSE suppressed
        END AS suppressed
    )
    FROM {{ previous }}
),
-- (2) Cohort siblings (real cohorts, not '(all)'): when the suppressed ones are exactly one, or
-- several with fewer than k respondents together (their union would be recovered from the
-- parent), suppress the unsuppressed one with the fewest respondents (ties: smallest cohort).
dc_pass_{{ i }} AS (
    SELECT * EXCLUDE (dc_suppressed_count, dc_suppressed_respondents, dc_smallest_first)
        REPLACE (
            CASE
                WHEN cohort <> '(all)' AND NOT suppressed AND dc_smallest_first = 1
                    AND (dc_suppressed_count = 1 OR (dc_suppressed_count > 1
                        AND dc_suppressed_respondents < getvariable('min_group_size')))
                    THEN true
                ELSE suppressed
            END AS suppressed
        )
    FROM (
        SELECT
            *,
            count(*) FILTER (WHERE suppressed AND cohort <> '(all)') OVER siblings
                AS dc_suppressed_count,
            coalesce(
                sum(respondents) FILTER (WHERE suppressed AND cohort <> '(all)') OVER siblings, 0
            ) AS dc_suppressed_respondents,
            row_number() OVER (
                PARTITION BY cohort_siblings, cohort = '(all)', suppressed
                ORDER BY respondents, cohort
            ) AS dc_smallest_first
        FROM dc_roles_{{ i }}
        WINDOW siblings AS (PARTITION BY cohort_siblings)
    )
)
{%- if i == passes %},
dc_settled AS (SELECT *, suppressed AS dc_settled FROM dc_pass_{{ i }})
{%- endif %}
{%- endfor %}
SELECT * EXCLUDE (dc_settled) REPLACE (
    CASE
        WHEN suppressed IS NOT DISTINCT FROM dc_settled THEN suppressed
        ELSE error('disclosure control did not settle in {{ passes }} passes')
    END AS suppressed
)
FROM dc_pass_{{ passes + 1 }}
{% endmacro %}
