-- One row per (program, cohort, role, item) with at least one counting pair (METRICS.md
-- "marts.survey_change"): how a respondent's answers move from the intake survey to the
-- closing survey of one match. cohort and role include the '(all)' rollups, computed from the
-- pairs. The groups go through the shared disclosure-control rule
-- (sql/shared/disclosure_control.sql), rule (1) within (program, cohort, item) and rule (2)
-- within (program, role, item).
CREATE OR REPLACE TEMP TABLE disclosure_cells AS
WITH kept_responses AS (
    -- core keeps the latest response per (survey, respondent, match); only known matches count.
    SELECT r.*, mc.program, mc.cohort
    FROM core.survey_responses AS r
    JOIN core.known_matches AS mc USING (match_id)
    WHERE r.instrument IN ('intake', 'closing')
),

intakes AS (
    -- a respondent's first intake for the match (ties: the smallest response_id)
    SELECT *
    FROM kept_responses
    WHERE instrument = 'intake'
    QUALIFY row_number() OVER (
        PARTITION BY respondent_key, match_id ORDER BY submitted_at, response_id
    ) = 1
),

closings AS (
    -- and the last closing (ties: the greatest response_id)
    SELECT *
    FROM kept_responses
    WHERE instrument = 'closing'
    QUALIFY row_number() OVER (
        PARTITION BY respondent_key, match_id ORDER BY submitted_at DESC, response_id DESC
    ) = 1
),

pairs AS (
    -- an intake strictly before the closing (instants, not local dates); the closing's role
    SELECT
        c.program,
        c.cohort,
        c.role,
        c.respondent_key,
        i.guidance AS intake_guidance, c.guidance AS closing_guidance,
        i.networking AS intake_networking, c.networking AS closing_networking,
        i.skills AS intake_skills, c.skills AS closing_skills,
        i.feedback AS intake_feedback, c.feedback AS closing_feedback,
        i.communication AS intake_communication, c.communication AS closing_communication,
        i.satisfaction AS intake_satisfaction, c.satisfaction AS closing_satisfaction
    FROM intakes AS i
    JOIN closings AS c USING (respondent_key, match_id)
    WHERE i.submitted_at < c.submitted_at
),

pair_items AS (
    -- one row per pair and item that counts: both answers non-blank
    SELECT *, closing_answer - intake_answer AS change
    FROM (
        UNPIVOT pairs
        ON (intake_guidance, closing_guidance) AS guidance,
            (intake_networking, closing_networking) AS networking,
            (intake_skills, closing_skills) AS skills,
            (intake_feedback, closing_feedback) AS feedback,
            (intake_communication, closing_communication) AS communication,
            (intake_satisfaction, closing_satisfaction) AS satisfaction
        INTO NAME item VALUE intake_answer, closing_answer
    )
    WHERE intake_answer IS NOT NULL AND closing_answer IS NOT NULL
),

respondent_changes AS (
    -- One row per respondent of each group (the respondent is in every grouping set): their
    -- pairs and sums, so the interval can be clustered by respondent. Integer sums, so every
    -- figure is exact and independent of row order.
    SELECT
        program,
        CASE WHEN grouping(cohort) = 1 THEN '(all)' ELSE cohort END AS cohort,
        CASE WHEN grouping(role) = 1 THEN '(all)' ELSE role END AS role,
        item,
        count(*) AS pairs,
        sum(intake_answer) AS intake_sum,
        sum(closing_answer) AS closing_sum,
        sum(change) AS change_sum,
        count(*) FILTER (WHERE change > 0) AS improved,
        count(*) FILTER (WHERE change < 0) AS declined
    FROM pair_items
    GROUP BY GROUPING SETS (
        (program, cohort, role, item, respondent_key),
        (program, role, item, respondent_key),
        (program, cohort, item, respondent_key),
        (program, item, respondent_key)
    )
),

change_sums AS (
    SELECT
        program,
        cohort,
        role,
        item,
        CAST(sum(pairs) AS BIGINT) AS n_pairs,
        count(*) AS n_respondents,
        sum(intake_sum) AS intake_sum,
        sum(closing_sum) AS closing_sum,
        sum(change_sum) AS change_sum,
        sum(improved) AS improved,
        sum(declined) AS declined,
        sum(change_sum * change_sum) AS respondent_squares,
        sum(pairs * change_sum) AS respondent_cross,
        sum(pairs * pairs) AS respondent_pair_squares
    FROM respondent_changes
    GROUP BY ALL
),

change_groups AS (
    SELECT
        program,
        cohort,
        role,
        item,
        n_pairs,
        n_respondents,
        intake_sum / n_pairs AS intake_mean,
        closing_sum / n_pairs AS closing_mean,
        change_sum / n_pairs AS mean_change,
        -- Interval of a mean of answers (METRICS.md, shared rules), over the pairs' changes:
        -- t with G - 1 degrees of freedom, standard error clustered by respondent, from
        -- N^2 sum(u_g^2) = N^2 sum(S_g^2) - 2 N T sum(n_g S_g) + T^2 sum(n_g^2) (integers).
        CASE
            WHEN n_respondents >= 2
                THEN t_quantile_975(n_respondents - 1)
                * sqrt(
                    n_respondents / (n_respondents - 1)
                    * CAST(
                        n_pairs::HUGEINT * n_pairs * respondent_squares
                        - 2 * n_pairs::HUGEINT * change_sum * respondent_cross
                        + change_sum::HUGEINT * change_sum * respondent_pair_squares
                        AS DOUBLE
                    )
                )
                / (n_pairs * n_pairs)
        END AS half_width,
        improved / n_pairs AS improved_share,
        declined / n_pairs AS declined_share
    FROM change_sums
)

SELECT
    *,
    {'program': program, 'cohort': cohort, 'item': item} AS role_siblings,
    {'program': program, 'role': role, 'item': item} AS cohort_siblings,
    n_respondents AS respondents,
    NULL::BOOLEAN AS suppressed
FROM change_groups;

-- @include disclosure_control

CREATE OR REPLACE TABLE marts.survey_change AS
SELECT
    program,
    cohort,
    role,
    item,
    n_pairs,
    n_respondents,
    CASE WHEN NOT suppressed THEN intake_mean END::DOUBLE AS intake_mean,
    CASE WHEN NOT suppressed THEN closing_mean END::DOUBLE AS closing_mean,
    CASE WHEN NOT suppressed THEN mean_change END::DOUBLE AS mean_change,
    CASE WHEN NOT suppressed THEN mean_change - half_width END::DOUBLE AS ci_low,
    CASE WHEN NOT suppressed THEN mean_change + half_width END::DOUBLE AS ci_high,
    CASE WHEN NOT suppressed THEN improved_share END::DOUBLE AS improved_share,
    CASE WHEN NOT suppressed THEN declined_share END::DOUBLE AS declined_share,
    suppressed
FROM disclosure_cells
ORDER BY program, item, cohort, role;

DROP TABLE disclosure_cells;

COMMENT ON TABLE marts.survey_change IS 'Change from intake to closing survey, one row per (program, cohort, role, item) with at least one counting pair; cohort and role include (all) rollups computed from the pairs. From the kept responses of known matches, per (respondent, match): the intake is its intake-instrument response with the smallest submitted_at (ties: smallest response_id), the closing its closing-instrument response with the greatest submitted_at (ties: greatest response_id); they pair when the intake was submitted before the closing (instants compared). A pair counts for an item when both answers are non-blank; its change is closing - intake. Program and cohort are the match''s, role the closing response''s.';
COMMENT ON COLUMN marts.survey_change.program IS 'Mentoring program.';
COMMENT ON COLUMN marts.survey_change.cohort IS 'Cohort, or (all) for every cohort of the program.';
COMMENT ON COLUMN marts.survey_change.role IS 'Role of the closing response (mentor or mentee), or (all) for both.';
COMMENT ON COLUMN marts.survey_change.item IS 'Survey item: guidance, networking, skills, feedback, communication or satisfaction.';
COMMENT ON COLUMN marts.survey_change.n_pairs IS 'Pairs that count for the item (both answers non-blank); kept when suppressed.';
COMMENT ON COLUMN marts.survey_change.n_respondents IS 'Distinct respondents among those pairs; kept when suppressed.';
COMMENT ON COLUMN marts.survey_change.intake_mean IS 'Mean intake answer of those pairs; NULL when suppressed.';
COMMENT ON COLUMN marts.survey_change.closing_mean IS 'Mean closing answer of those pairs; NULL when suppressed.';
COMMENT ON COLUMN marts.survey_change.mean_change IS 'Mean change (closing - intake); NULL when suppressed.';
COMMENT ON COLUMN marts.survey_change.ci_low IS 'mean_change - t x se: 95% interval of the mean change with pairs clustered by respondent; se = sqrt(G/(G - 1) x sum over respondents g of u_g^2) / n_pairs, u_g the sum of (change - mean_change) over g''s pairs, G = n_respondents; t the 0.975 quantile of Student''s t with G - 1 degrees of freedom. A change among those who answered both waves, not an effect of the program. NULL when n_respondents < 2 or suppressed.';
COMMENT ON COLUMN marts.survey_change.ci_high IS 'mean_change + t x se (see ci_low); NULL when n_respondents < 2 or suppressed.';
COMMENT ON COLUMN marts.survey_change.improved_share IS 'Share of pairs with change > 0; NULL when suppressed.';
COMMENT ON COLUMN marts.survey_change.declined_share IS 'Share of pairs with change < 0; NULL when suppressed.';
COMMENT ON COLUMN marts.survey_change.suppressed IS 'True when n_respondents < min group size k, or by complementary suppression: (1) the mentor/mentee sibling of a suppressed row within (program, cohort, item); (2) within (program, role, item), when the suppressed real cohorts are exactly one or have fewer than k respondents together, the unsuppressed real cohort with the fewest respondents (ties: smallest cohort name); (1) then (2) repeated until stable.';
