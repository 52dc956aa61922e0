-- One row per (program, cohort, survey_id, role, item) with at least one answer; cohort and role
-- include the '(all)' rollups, computed from the answers. The groups go through the shared
-- disclosure-control rule (macros/disclosure_control.sql: size, then complementary
-- suppression to a fixed point) so no suppressed value can be recovered by subtraction.
WITH disclosure_input AS (
    WITH kept_responses AS (
        -- core keeps the latest response per (survey, respondent, match); only known matches count.
        SELECT r.*, mc.program, mc.cohort
        FROM {{ ref('survey_responses') }} AS r
        JOIN {{ ref('known_matches') }} AS mc USING (match_id)
    ),

    respondent_sums AS (
        -- Each respondent's answers per group: the respondent is part of every grouping set, so
        -- one row here is one respondent of one group (the same person counts once in a rollup
        -- even with two matches in it). Grouped before the items are unpivoted, which is six
        -- times fewer rows to group. Sums are exact integers: the same bits in any order.
        SELECT
            program,
            {{ rollup_label('cohort') }} AS cohort,
            survey_id,
            {{ rollup_label('role') }} AS role,
            count(guidance) AS guidance__answers,
            sum(guidance) AS guidance__sum,
            sum(guidance * guidance) AS guidance__squares,
            count(*) FILTER (WHERE guidance >= 4) AS guidance__top2,
            count(networking) AS networking__answers,
            sum(networking) AS networking__sum,
            sum(networking * networking) AS networking__squares,
            count(*) FILTER (WHERE networking >= 4) AS networking__top2,
            count(skills) AS skills__answers,
            sum(skills) AS skills__sum,
            sum(skills * skills) AS skills__squares,
            count(*) FILTER (WHERE skills >= 4) AS skills__top2,
            count(feedback) AS feedback__answers,
            sum(feedback) AS feedback__sum,
            sum(feedback * feedback) AS feedback__squares,
            count(*) FILTER (WHERE feedback >= 4) AS feedback__top2,
            count(communication) AS communication__answers,
            sum(communication) AS communication__sum,
            sum(communication * communication) AS communication__squares,
            count(*) FILTER (WHERE communication >= 4) AS communication__top2,
            count(satisfaction) AS satisfaction__answers,
            sum(satisfaction) AS satisfaction__sum,
            sum(satisfaction * satisfaction) AS satisfaction__squares,
            count(*) FILTER (WHERE satisfaction >= 4) AS satisfaction__top2
        FROM kept_responses
        GROUP BY GROUPING SETS (
            (program, cohort, survey_id, role, respondent_key),
            (program, survey_id, role, respondent_key),
            (program, cohort, survey_id, respondent_key),
            (program, survey_id, respondent_key)
        )
    ),

    group_sums AS (
        -- Per group, each item's answers and the respondents who gave one.
        SELECT
            program,
            cohort,
            survey_id,
            role,
            sum(guidance__answers) AS guidance__answers,
            count(*) FILTER (WHERE guidance__answers > 0) AS guidance__respondents,
            sum(guidance__sum) AS guidance__sum,
            sum(guidance__squares) AS guidance__squares,
            sum(guidance__top2) AS guidance__top2,
            sum(guidance__sum * guidance__sum) AS guidance__respondent_squares,
            sum(guidance__answers * guidance__sum) AS guidance__respondent_cross,
            sum(guidance__answers * guidance__answers) AS guidance__respondent_answer_squares,
            sum(networking__answers) AS networking__answers,
            count(*) FILTER (WHERE networking__answers > 0) AS networking__respondents,
            sum(networking__sum) AS networking__sum,
            sum(networking__squares) AS networking__squares,
            sum(networking__top2) AS networking__top2,
            sum(networking__sum * networking__sum) AS networking__respondent_squares,
            sum(networking__answers * networking__sum) AS networking__respondent_cross,
            sum(networking__answers * networking__answers) AS networking__respondent_answer_squares,
            sum(skills__answers) AS skills__answers,
            count(*) FILTER (WHERE skills__answers > 0) AS skills__respondents,
            sum(skills__sum) AS skills__sum,
            sum(skills__squares) AS skills__squares,
            sum(skills__top2) AS skills__top2,
            sum(skills__sum * skills__sum) AS skills__respondent_squares,
            sum(skills__answers * skills__sum) AS skills__respondent_cross,
            sum(skills__answers * skills__answers) AS skills__respondent_answer_squares,
            sum(feedback__answers) AS feedback__answers,
            count(*) FILTER (WHERE feedback__answers > 0) AS feedback__respondents,
            sum(feedback__sum) AS feedback__sum,
            sum(feedback__squares) AS feedback__squares,
            sum(feedback__top2) AS feedback__top2,
            sum(feedback__sum * feedback__sum) AS feedback__respondent_squares,
            sum(feedback__answers * feedback__sum) AS feedback__respondent_cross,
            sum(feedback__answers * feedback__answers) AS feedback__respondent_answer_squares,
            sum(communication__answers) AS communication__answers,
            count(*) FILTER (WHERE communication__answers > 0) AS communication__respondents,
            sum(communication__sum) AS communication__sum,
            sum(communication__squares) AS communication__squares,
            sum(communication__top2) AS communication__top2,
            sum(communication__sum * communication__sum) AS communication__respondent_squares,
            sum(communication__answers * communication__sum) AS communication__respondent_cross,
            sum(communication__answers * communication__answers) AS communication__respondent_answer_squares,
            sum(satisfaction__answers) AS satisfaction__answers,
            count(*) FILTER (WHERE satisfaction__answers > 0) AS satisfaction__respondents,
            sum(satisfaction__sum) AS satisfaction__sum,
            sum(satisfaction__squares) AS satisfaction__squares,
            sum(satisfaction__top2) AS satisfaction__top2,
            sum(satisfaction__sum * satisfaction__sum) AS satisfaction__respondent_squares,
            sum(satisfaction__answers * satisfaction__sum) AS satisfaction__respondent_cross,
            sum(satisfaction__answers * satisfaction__answers) AS satisfaction__respondent_answer_squares
        FROM respondent_sums
        GROUP BY ALL
    ),

    item_sums AS (
        -- One row per group and item with at least one answer.
        SELECT *
        FROM (
            UNPIVOT group_sums
            ON (guidance__answers, guidance__respondents,
                guidance__sum, guidance__squares, guidance__top2,
                guidance__respondent_squares, guidance__respondent_cross,
                guidance__respondent_answer_squares) AS guidance,
               (networking__answers, networking__respondents,
                networking__sum, networking__squares, networking__top2,
                networking__respondent_squares, networking__respondent_cross,
                networking__respondent_answer_squares) AS networking,
               (skills__answers, skills__respondents,
                skills__sum, skills__squares, skills__top2,
                skills__respondent_squares, skills__respondent_cross,
                skills__respondent_answer_squares) AS skills,
               (feedback__answers, feedback__respondents,
                feedback__sum, feedback__squares, feedback__top2,
                feedback__respondent_squares, feedback__respondent_cross,
                feedback__respondent_answer_squares) AS feedback,
               (communication__answers, communication__respondents,
                communication__sum, communication__squares, communication__top2,
                communication__respondent_squares, communication__respondent_cross,
                communication__respondent_answer_squares) AS communication,
               (satisfaction__answers, satisfaction__respondents,
                satisfaction__sum, satisfaction__squares, satisfaction__top2,
                satisfaction__respondent_squares, satisfaction__respondent_cross,
                satisfaction__respondent_answer_squares) AS satisfaction
            INTO NAME item VALUE answers, n_respondents, answer_sum, answer_square_sum, top2_answers,
                respondent_squares, respondent_cross, respondent_answer_squares
        )
        WHERE answers > 0
    ),

    item_groups AS (
        SELECT
            program,
            cohort,
            survey_id,
            role,
            item,
            CAST(answers AS BIGINT) AS n,
            n_respondents,
            answer_sum / answers AS mean,
            -- Interval of a mean of answers (METRICS.md, shared rules): t with G - 1 degrees of
            -- freedom, standard error clustered by respondent (macros/clustered_t_interval.sql).
            {{ clustered_t_half_width(
                n='answers',
                total='answer_sum',
                respondents='n_respondents',
                squares='respondent_squares',
                cross='respondent_cross',
                count_squares='respondent_answer_squares'
            ) }} AS half_width,
            top2_answers / answers AS top2_share
        FROM item_sums
    )

    SELECT
        *,
        {'program': program, 'cohort': cohort, 'survey_id': survey_id, 'item': item}
            AS role_siblings,
        {'program': program, 'survey_id': survey_id, 'role': role, 'item': item}
            AS cohort_siblings,
        n_respondents AS respondents,
        NULL::BOOLEAN AS suppressed
    FROM item_groups
),

disclosure_cells AS ({{ disclosure_control('disclosure_input') }})

SELECT
    program,
    cohort,
    survey_id,
    role,
    item,
    n,
    n_respondents,
    CASE WHEN NOT suppressed THEN mean END::DOUBLE AS mean,
    CASE WHEN NOT suppressed THEN mean - half_width END::DOUBLE AS ci_low,
    CASE WHEN NOT suppressed THEN mean + half_width END::DOUBLE AS ci_high,
    CASE WHEN NOT suppressed THEN top2_share END::DOUBLE AS top2_share,
    suppressed
FROM disclosure_cells
ORDER BY program, survey_id, item, cohort, role
