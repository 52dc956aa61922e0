-- One row per (program, cohort, survey_id, role, item) with at least one answer; cohort and role
-- include the '(all)' rollups, computed from the answers. The groups go through the shared
-- disclosure-control rule (sql/shared/disclosure_control.sql: size, then complementary
-- suppression to a fixed point) so no suppressed value can be recovered by subtraction.
CREATE OR REPLACE TEMP TABLE disclosure_cells AS
WITH kept_responses AS (
    -- core keeps the latest response per (survey, respondent, match); only known matches count.
    SELECT r.*, mc.program, mc.cohort
    FROM core.survey_responses AS r
    JOIN marts.match_cadence AS mc USING (match_id)
),

answers AS (
    -- One row per answered item; UNPIVOT drops unanswered (NULL) items.
    UNPIVOT (
        SELECT
            program, cohort, survey_id, role, respondent_key,
            guidance, networking, skills, feedback, communication, satisfaction
        FROM kept_responses
    )
    ON guidance, networking, skills, feedback, communication, satisfaction
    INTO NAME item VALUE answer
),

respondent_groups AS (
    -- Each respondent's answers per group: the respondent is part of every grouping set, so
    -- one row here is one respondent of one group (the same person counts once in a rollup
    -- even with two matches in it). Sums are exact integers: the same bits in any order.
    SELECT
        program,
        CASE WHEN grouping(cohort) = 1 THEN '(all)' ELSE cohort END AS cohort,
        survey_id,
        CASE WHEN grouping(role) = 1 THEN '(all)' ELSE role END AS role,
        item,
        count(*) AS answers,
        sum(answer) AS answer_sum,
        sum(answer * answer) AS answer_square_sum,
        count(*) FILTER (WHERE answer >= 4) AS top2_answers
    FROM answers
    GROUP BY GROUPING SETS (
        (program, cohort, survey_id, role, item, respondent_key),
        (program, survey_id, role, item, respondent_key),
        (program, cohort, survey_id, item, respondent_key),
        (program, survey_id, item, respondent_key)
    )
),

item_groups AS (
    SELECT
        program,
        cohort,
        survey_id,
        role,
        item,
        CAST(sum(answers) AS BIGINT) AS n,
        count(*) AS n_respondents,
        sum(answer_sum) / sum(answers) AS mean,
        -- sample standard deviation: sqrt((n*sum(x^2) - sum(x)^2) / (n*(n-1)))
        sqrt(
            (sum(answers) * sum(answer_square_sum) - sum(answer_sum) * sum(answer_sum))
            / (sum(answers) * (sum(answers) - 1))
        ) AS sd,
        sum(top2_answers) / sum(answers) AS top2_share
    FROM respondent_groups
    GROUP BY ALL
)

SELECT
    *,
    {'program': program, 'cohort': cohort, 'survey_id': survey_id, 'item': item}
        AS role_siblings,
    {'program': program, 'survey_id': survey_id, 'role': role, 'item': item}
        AS cohort_siblings,
    n_respondents AS respondents,
    NULL::BOOLEAN AS suppressed
FROM item_groups;

-- @include disclosure_control

CREATE OR REPLACE TABLE marts.feedback_scores AS
SELECT
    program,
    cohort,
    survey_id,
    role,
    item,
    n,
    n_respondents,
    CASE WHEN NOT suppressed THEN mean END::DOUBLE AS mean,
    CASE WHEN NOT suppressed AND n >= 2 THEN mean - 1.96::DOUBLE * sd / sqrt(n) END::DOUBLE
        AS ci_low,
    CASE WHEN NOT suppressed AND n >= 2 THEN mean + 1.96::DOUBLE * sd / sqrt(n) END::DOUBLE
        AS ci_high,
    CASE WHEN NOT suppressed THEN top2_share END::DOUBLE AS top2_share,
    suppressed
FROM disclosure_cells
ORDER BY program, survey_id, item, cohort, role;

DROP TABLE disclosure_cells;

COMMENT ON TABLE marts.feedback_scores IS 'One row per (program, cohort, survey_id, role, item) with at least one answer in the kept survey responses (latest per survey, respondent and match) of known matches; cohort and role include (all) rollups computed from the answers. Items: guidance, networking, skills, feedback, communication, satisfaction (1-5).';
COMMENT ON COLUMN marts.feedback_scores.program IS 'Mentoring program.';
COMMENT ON COLUMN marts.feedback_scores.cohort IS 'Cohort, or (all) for every cohort of the program.';
COMMENT ON COLUMN marts.feedback_scores.survey_id IS 'Survey wave, e.g. checkin-2026-03.';
COMMENT ON COLUMN marts.feedback_scores.role IS 'Respondent role (mentor or mentee), or (all) for both.';
COMMENT ON COLUMN marts.feedback_scores.item IS 'Survey item: guidance, networking, skills, feedback, communication or satisfaction.';
COMMENT ON COLUMN marts.feedback_scores.n IS 'Answers (non-blank values) in the group; kept when suppressed.';
COMMENT ON COLUMN marts.feedback_scores.n_respondents IS 'Distinct respondents among those answers; kept when suppressed.';
COMMENT ON COLUMN marts.feedback_scores.mean IS 'Mean answer; NULL when suppressed.';
COMMENT ON COLUMN marts.feedback_scores.ci_low IS 'mean - 1.96 x sample standard deviation / sqrt(n); NULL when n < 2 or suppressed.';
COMMENT ON COLUMN marts.feedback_scores.ci_high IS 'mean + 1.96 x sample standard deviation / sqrt(n); NULL when n < 2 or suppressed.';
COMMENT ON COLUMN marts.feedback_scores.top2_share IS 'Share of answers that are 4 or 5; NULL when suppressed.';
COMMENT ON COLUMN marts.feedback_scores.suppressed IS 'True when n_respondents < min group size k, or by complementary suppression: (1) the mentor/mentee sibling of a suppressed row within (program, cohort, survey_id, item); (2) within (program, survey_id, role, item), when the suppressed real cohorts are exactly one or have fewer than k respondents together, the unsuppressed real cohort with the fewest respondents (ties: smallest cohort name); (1) then (2) repeated until stable.';
