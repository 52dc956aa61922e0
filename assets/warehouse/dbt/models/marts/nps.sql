-- One row per (program, cohort, survey_id, role) with at least one `nps` answer; cohort and role
-- include the '(all)' rollups, computed from the answers. Suppression is the shared
-- disclosure-control rule (macros/disclosure_control.sql) decided on these nps rows alone,
-- independently of feedback_scores.
WITH disclosure_input AS (
    WITH nps_answers AS (
        -- core keeps the latest response per (survey, respondent, match); only known matches count.
        SELECT mc.program, mc.cohort, r.survey_id, r.role, r.respondent_key, r.nps AS answer
        FROM {{ ref('survey_responses') }} AS r
        JOIN {{ ref('known_matches') }} AS mc USING (match_id)
        WHERE r.nps IS NOT NULL
    ),

    respondent_groups AS (
        -- One row per respondent of each group (the respondent is in every grouping set), so a
        -- person with two matches in a rollup counts once, without count(DISTINCT).
        SELECT
            program,
            {{ rollup_label('cohort') }} AS cohort,
            survey_id,
            {{ rollup_label('role') }} AS role,
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
        -- t with G - 1 degrees of freedom, standard error clustered by respondent
        -- (macros/clustered_t_interval.sql), in units of 1 with T = promoters - detractors,
        -- x 100 for the score.
        SELECT
            *,
            100 * {{ clustered_t_half_width(
                n='n',
                total='(promoters - detractors)',
                respondents='n_respondents',
                squares='respondent_squares',
                cross='respondent_cross',
                count_squares='respondent_answer_squares'
            ) }} AS nps_half_width
        FROM scored
    )

    SELECT
        *,
        {'program': program, 'cohort': cohort, 'survey_id': survey_id} AS role_siblings,
        {'program': program, 'survey_id': survey_id, 'role': role} AS cohort_siblings,
        n_respondents AS respondents,
        NULL::BOOLEAN AS suppressed
    FROM with_interval
),

disclosure_cells AS ({{ disclosure_control('disclosure_input') }})

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
ORDER BY program, survey_id, cohort, role
