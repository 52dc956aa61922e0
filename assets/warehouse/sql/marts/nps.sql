-- One row per (program, cohort, survey_id, role) with at least one `nps` answer; cohort and role
-- include the '(all)' rollups, computed from the answers. Suppression (size, then the
-- complementary rules to a fixed point) is decided on these nps rows alone, independently of
-- feedback_scores.
CREATE OR REPLACE TABLE marts.nps AS
WITH nps_answers AS (
    -- core keeps the latest response per (survey, respondent, match); only known matches count.
    SELECT mc.program, mc.cohort, r.survey_id, r.role, r.respondent_key, r.nps AS answer
    FROM core.survey_responses AS r
    JOIN marts.match_cadence AS mc USING (match_id)
    WHERE r.nps IS NOT NULL
),

respondent_groups AS (
    -- One row per respondent of each group (the respondent is in every grouping set), so a
    -- person with two matches in a rollup counts once, without count(DISTINCT).
    SELECT
        program,
        CASE WHEN grouping(cohort) = 1 THEN '(all)' ELSE cohort END AS cohort,
        survey_id,
        CASE WHEN grouping(role) = 1 THEN '(all)' ELSE role END AS role,
        count(*) AS answers,
        count(*) FILTER (WHERE answer >= 9) AS promoters,
        count(*) FILTER (WHERE answer BETWEEN 7 AND 8) AS passives,
        count(*) FILTER (WHERE answer <= 6) AS detractors
    FROM nps_answers
    GROUP BY GROUPING SETS (
        (program, cohort, survey_id, role, respondent_key),
        (program, survey_id, role, respondent_key),
        (program, cohort, survey_id, respondent_key),
        (program, survey_id, respondent_key)
    )
),

nps_groups AS (
    SELECT
        program,
        cohort,
        survey_id,
        role,
        CAST(sum(answers) AS BIGINT) AS n,
        count(*) AS n_respondents,
        CAST(sum(promoters) AS BIGINT) AS promoters,
        CAST(sum(passives) AS BIGINT) AS passives,
        CAST(sum(detractors) AS BIGINT) AS detractors
    FROM respondent_groups
    GROUP BY ALL
),

scored AS (
    SELECT
        *,
        promoters / n AS promoter_share,
        detractors / n AS detractor_share,
        100 * (promoters - detractors) / n AS nps
    FROM nps_groups
),

with_interval AS (
    SELECT
        *,
        1.96::DOUBLE * 100
        * sqrt(
            -- never below 0 mathematically; greatest() guards against rounding
            greatest(
                promoter_share + detractor_share - (promoter_share - detractor_share) ** 2, 0
            )
            / n
        ) AS nps_half_width
    FROM scored
)

SELECT
    program,
    cohort,
    survey_id,
    role,
    n,
    n_respondents,
    promoters,
    passives,
    detractors,
    nps::DOUBLE AS nps,
    (nps - nps_half_width)::DOUBLE AS nps_ci_low,
    (nps + nps_half_width)::DOUBLE AS nps_ci_high,
    n_respondents < getvariable('min_group_size') AS suppressed
FROM with_interval
ORDER BY program, survey_id, cohort, role;

-- Complementary suppression, each UPDATE touching only rows it changes so a quiet pass is 0.
-- @repeat-until-stable
-- (1) Role siblings: within (program, cohort, survey_id), cohort (all) included, when one of
-- mentor/mentee is suppressed the other one is suppressed too.
UPDATE marts.nps AS f
SET suppressed = true
WHERE NOT f.suppressed
    AND f.role IN ('mentor', 'mentee')
    AND EXISTS (
        SELECT 1
        FROM marts.nps AS s
        WHERE s.program = f.program
            AND s.cohort = f.cohort
            AND s.survey_id = f.survey_id
            AND s.role IN ('mentor', 'mentee')
            AND s.role <> f.role
            AND s.suppressed
    );
-- (2) Cohort siblings: within (program, survey_id, role), role (all) included, when exactly
-- one real cohort is suppressed, suppress the unsuppressed real cohort with the fewest
-- respondents (ties: the smallest cohort name).
UPDATE marts.nps AS f
SET suppressed = true
FROM (
    SELECT
        program, survey_id, role, cohort, suppressed,
        count(*) FILTER (WHERE suppressed)
            OVER (PARTITION BY program, survey_id, role) AS suppressed_siblings,
        row_number()
            OVER (PARTITION BY program, survey_id, role, suppressed
                  ORDER BY n_respondents, cohort) AS smallest_first
    FROM marts.nps
    WHERE cohort <> '(all)'
) AS c
WHERE c.program = f.program
    AND c.survey_id = f.survey_id
    AND c.role = f.role
    AND c.cohort = f.cohort
    AND NOT c.suppressed
    AND c.suppressed_siblings = 1
    AND c.smallest_first = 1;
-- @end-repeat

UPDATE marts.nps
SET nps = NULL, nps_ci_low = NULL, nps_ci_high = NULL,
    promoters = NULL, passives = NULL, detractors = NULL
WHERE suppressed;

COMMENT ON TABLE marts.nps IS 'Net promoter score per (program, cohort, survey_id, role) with at least one nps answer (0-10) in the kept survey responses of known matches; cohort and role include (all) rollups computed from the answers. Suppression is decided on these rows alone.';
COMMENT ON COLUMN marts.nps.program IS 'Mentoring program.';
COMMENT ON COLUMN marts.nps.cohort IS 'Cohort, or (all) for every cohort of the program.';
COMMENT ON COLUMN marts.nps.survey_id IS 'Survey wave.';
COMMENT ON COLUMN marts.nps.role IS 'Respondent role (mentor or mentee), or (all) for both.';
COMMENT ON COLUMN marts.nps.n IS 'nps answers in the group; kept when suppressed.';
COMMENT ON COLUMN marts.nps.n_respondents IS 'Distinct respondents among those answers; kept when suppressed.';
COMMENT ON COLUMN marts.nps.promoters IS 'Answers of 9 or 10; NULL when suppressed.';
COMMENT ON COLUMN marts.nps.passives IS 'Answers of 7 or 8; NULL when suppressed.';
COMMENT ON COLUMN marts.nps.detractors IS 'Answers of 0 to 6; NULL when suppressed.';
COMMENT ON COLUMN marts.nps.nps IS '100 x (promoters - detractors) / n; NULL when suppressed.';
COMMENT ON COLUMN marts.nps.nps_ci_low IS 'nps - 1.96 x 100 x sqrt((pP + pD - (pP - pD)^2) / n), pP and pD the promoter and detractor shares; NULL when suppressed.';
COMMENT ON COLUMN marts.nps.nps_ci_high IS 'nps + 1.96 x 100 x sqrt((pP + pD - (pP - pD)^2) / n); NULL when suppressed.';
COMMENT ON COLUMN marts.nps.suppressed IS 'True when n_respondents < min group size k, or by complementary suppression on the nps rows: (1) the mentor/mentee sibling of a suppressed row, (2) when exactly one real cohort of a (program, survey_id, role) is suppressed, the unsuppressed real cohort with the fewest respondents (ties: smallest cohort name); repeated until stable.';
