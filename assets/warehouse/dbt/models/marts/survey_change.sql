-- One row per (program, cohort, role, item) with at least one counting pair (METRICS.md
-- "marts.survey_change"): how a respondent's answers move from the intake survey to the
-- closing survey of one match. cohort and role include the '(all)' rollups, computed from the
-- pairs. The groups go through the shared disclosure-control rule
-- (macros/disclosure_control.sql), rule (1) within (program, cohort, item) and rule (2)
-- within (program, role, item).
WITH disclosure_input AS (
    WITH kept_responses AS (
        -- core keeps the latest response per (survey, respondent, match); only known matches count.
        SELECT r.*, mc.program, mc.cohort
        FROM {{ ref('survey_responses') }} AS r
        JOIN {{ ref('known_matches') }} AS mc USING (match_id)
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
            {{ rollup_label('cohort') }} AS cohort,
            {{ rollup_label('role') }} AS role,
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
            -- t with G - 1 degrees of freedom, standard error clustered by respondent
            -- (macros/clustered_t_interval.sql).
            {{ clustered_t_half_width(
                n='n_pairs',
                total='change_sum',
                respondents='n_respondents',
                squares='respondent_squares',
                cross='respondent_cross',
                count_squares='respondent_pair_squares'
            ) }} AS half_width,
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
    FROM change_groups
),

disclosure_cells AS ({{ disclosure_control('disclosure_input') }})

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
ORDER BY program, item, cohort, role
