-- One row per (program, cohort, survey_id, role) with at least one `nps` answer; cohort and role
-- include the '(all)' rollups, computed from the answers. Suppression is the shared
-- disclosure-control rule (sql/shared/disclosure_control.sql) decided on these nps rows alone,
-- independently of feedback_scores.
CREATE OR REPLACE TEMP TABLE disclosure_cells AS
WITH nps_answers AS (
    -- core keeps the latest response per (survey, respondent, match); only known matches count.
    SELECT mc.program, mc.cohort, r.survey_id, r.role, r.respondent_key, r.nps AS answer
    FROM core.survey_responses AS r
    JOIN core.known_matches AS mc USING (match_id)
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
        CAST(sum(detractors) AS BIGINT) AS detractors,
        -- for the clustered interval, with scores 1 / 0 / -1 (x 100 below): per respondent
        -- n_g answers and S_g = promoters - detractors
        sum((promoters - detractors) * (promoters - detractors)) AS respondent_squares,
        sum(answers * (promoters - detractors)) AS respondent_cross,
        sum(answers * answers) AS respondent_answer_squares
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
    -- Interval of a mean of answers (METRICS.md, shared rules), of the scores 100 / 0 / -100:
    -- t with G - 1 degrees of freedom, standard error clustered by respondent. With T =
    -- promoters - detractors, N^2 sum(u_g^2) = N^2 sum(S_g^2) - 2 N T sum(n_g S_g)
    -- + T^2 sum(n_g^2), exact integers (in units of 1; x 100 for the score).
    SELECT
        *,
        CASE
            WHEN n_respondents >= 2
                THEN 100 * t_quantile_975(n_respondents - 1)
                * sqrt(
                    n_respondents / (n_respondents - 1)
                    * CAST(
                        n::HUGEINT * n * respondent_squares
                        - 2 * n::HUGEINT * (promoters - detractors) * respondent_cross
                        + (promoters - detractors)::HUGEINT * (promoters - detractors)
                        * respondent_answer_squares
                        AS DOUBLE
                    )
                )
                / (n * n)
        END AS nps_half_width
    FROM scored
)

SELECT
    *,
    {'program': program, 'cohort': cohort, 'survey_id': survey_id} AS role_siblings,
    {'program': program, 'survey_id': survey_id, 'role': role} AS cohort_siblings,
    n_respondents AS respondents,
    NULL::BOOLEAN AS suppressed
FROM with_interval;

-- @include disclosure_control

CREATE OR REPLACE TABLE marts.nps AS
SELECT
    program,
    cohort,
    survey_id,
    role,
    n,
    n_respondents,
    CASE WHEN NOT suppressed THEN promoters END AS promoters,
    CASE WHEN NOT suppressed THEN passives END AS passives,
    CASE WHEN NOT suppressed THEN detractors END AS detractors,
    CASE WHEN NOT suppressed THEN nps END::DOUBLE AS nps,
    -- clipped to the score's range [-100, 100] (greatest and least skip NULLs: test first)
    CASE
        WHEN NOT suppressed AND nps_half_width IS NOT NULL
            THEN greatest(nps - nps_half_width, -100)
    END::DOUBLE AS nps_ci_low,
    CASE
        WHEN NOT suppressed AND nps_half_width IS NOT NULL
            THEN least(nps + nps_half_width, 100)
    END::DOUBLE AS nps_ci_high,
    suppressed
FROM disclosure_cells
ORDER BY program, survey_id, cohort, role;

DROP TABLE disclosure_cells;

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
COMMENT ON COLUMN marts.nps.nps_ci_low IS 'greatest(nps - t x se, -100): 95% interval of the mean of the scores 100 (promoter), 0 (passive), -100 (detractor) with answers clustered by respondent; se = sqrt(G/(G - 1) x sum over respondents g of u_g^2) / n, u_g the sum of (score - nps) over g''s answers, G = n_respondents; t the 0.975 quantile of Student''s t with G - 1 degrees of freedom. NULL when n_respondents < 2 or suppressed.';
COMMENT ON COLUMN marts.nps.nps_ci_high IS 'least(nps + t x se, 100) (see nps_ci_low); NULL when n_respondents < 2 or suppressed.';
COMMENT ON COLUMN marts.nps.suppressed IS 'True when n_respondents < min group size k, or by complementary suppression on the nps rows alone: (1) the mentor/mentee sibling of a suppressed row within (program, cohort, survey_id); (2) within (program, survey_id, role), when the suppressed real cohorts are exactly one or have fewer than k respondents together, the unsuppressed real cohort with the fewest respondents (ties: smallest cohort name); (1) then (2) repeated until stable.';
