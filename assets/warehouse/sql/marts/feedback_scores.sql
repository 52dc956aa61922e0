-- One row per (program, cohort, survey_id, role, item) with at least one answer; cohort and role
-- include the '(all)' rollups, computed from the answers. Small groups are suppressed, then the
-- complementary rules run to a fixed point so no suppressed value can be recovered by
-- subtraction from a parent and its siblings.
CREATE OR REPLACE TABLE marts.feedback_scores AS
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
    program,
    cohort,
    survey_id,
    role,
    item,
    n,
    n_respondents,
    mean::DOUBLE AS mean,
    CASE WHEN n >= 2 THEN mean - 1.96::DOUBLE * sd / sqrt(n) END::DOUBLE AS ci_low,
    CASE WHEN n >= 2 THEN mean + 1.96::DOUBLE * sd / sqrt(n) END::DOUBLE AS ci_high,
    top2_share::DOUBLE AS top2_share,
    n_respondents < getvariable('min_group_size') AS suppressed
FROM item_groups
ORDER BY program, survey_id, item, cohort, role;

-- Complementary suppression, each UPDATE touching only rows it changes so a quiet pass is 0.
-- @repeat-until-stable
-- (1) Role siblings: within (program, cohort, survey_id, item), cohort (all) included, when
-- one of mentor/mentee is suppressed the other one is suppressed too.
UPDATE marts.feedback_scores AS f
SET suppressed = true
WHERE NOT f.suppressed
    AND f.role IN ('mentor', 'mentee')
    AND EXISTS (
        SELECT 1
        FROM marts.feedback_scores AS s
        WHERE s.program = f.program
            AND s.cohort = f.cohort
            AND s.survey_id = f.survey_id
            AND s.item = f.item
            AND s.role IN ('mentor', 'mentee')
            AND s.role <> f.role
            AND s.suppressed
    );
-- (2) Cohort siblings: within (program, survey_id, role, item), role (all) included, when
-- exactly one real cohort is suppressed, suppress the unsuppressed real cohort with the fewest
-- respondents (ties: the smallest cohort name).
UPDATE marts.feedback_scores AS f
SET suppressed = true
FROM (
    SELECT
        program, survey_id, role, item, cohort, suppressed,
        count(*) FILTER (WHERE suppressed)
            OVER (PARTITION BY program, survey_id, role, item) AS suppressed_siblings,
        row_number()
            OVER (PARTITION BY program, survey_id, role, item, suppressed
                  ORDER BY n_respondents, cohort) AS smallest_first
    FROM marts.feedback_scores
    WHERE cohort <> '(all)'
) AS c
WHERE c.program = f.program
    AND c.survey_id = f.survey_id
    AND c.role = f.role
    AND c.item = f.item
    AND c.cohort = f.cohort
    AND NOT c.suppressed
    AND c.suppressed_siblings = 1
    AND c.smallest_first = 1;
-- @end-repeat

UPDATE marts.feedback_scores
SET mean = NULL, ci_low = NULL, ci_high = NULL, top2_share = NULL
WHERE suppressed;

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
COMMENT ON COLUMN marts.feedback_scores.suppressed IS 'True when n_respondents < min group size k, or by complementary suppression: (1) the mentor/mentee sibling of a suppressed row, (2) when exactly one real cohort of a (program, survey_id, role, item) is suppressed, the unsuppressed real cohort with the fewest respondents (ties: smallest cohort name); repeated until stable.';
