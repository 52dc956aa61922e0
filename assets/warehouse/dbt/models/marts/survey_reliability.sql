-- One row per (program, survey_id, role) with a kept response of a known match, role '(all)'
-- included, no program rollup: Cronbach's alpha of the six feedback items over the responses
-- that answer all six (complete cases), whatever their instrument.
WITH responses AS (
    SELECT
        c.program,
        r.survey_id,
        r.role,
        r.respondent_key,
        r.guidance,
        r.networking,
        r.skills,
        r.feedback,
        r.communication,
        r.satisfaction,
        r.guidance IS NOT NULL AND r.networking IS NOT NULL AND r.skills IS NOT NULL
        AND r.feedback IS NOT NULL AND r.communication IS NOT NULL
        AND r.satisfaction IS NOT NULL AS complete
    FROM {{ ref('survey_responses') }} AS r
    JOIN {{ ref('known_matches') }} AS c USING (match_id)
),

scored AS (
    SELECT
        *,
        guidance + networking + skills + feedback + communication + satisfaction AS total
    FROM responses
),

sums AS (
    -- Exact integer sums over the complete responses of each group.
    SELECT
        program,
        survey_id,
        {{ rollup_label('role') }} AS role,
        count(*) FILTER (WHERE complete) AS n_complete,
        count(DISTINCT respondent_key) FILTER (WHERE complete) AS n_respondents,
        sum(guidance) FILTER (WHERE complete) AS s1,
        sum(networking) FILTER (WHERE complete) AS s2,
        sum(skills) FILTER (WHERE complete) AS s3,
        sum(feedback) FILTER (WHERE complete) AS s4,
        sum(communication) FILTER (WHERE complete) AS s5,
        sum(satisfaction) FILTER (WHERE complete) AS s6,
        sum(
            guidance * guidance + networking * networking + skills * skills
            + feedback * feedback + communication * communication + satisfaction * satisfaction
        ) FILTER (WHERE complete) AS item_squares,
        sum(total) FILTER (WHERE complete) AS total_sum,
        sum(total * total) FILTER (WHERE complete) AS total_squares
    FROM scored
    GROUP BY GROUPING SETS ((program, survey_id, role), (program, survey_id))
),

spreads AS (
    -- Sample variances as n*sum(x^2) - sum(x)^2: the common factor 1/(n(n-1)) cancels in
    -- alpha, and integer arithmetic keeps the figure independent of row order.
    SELECT
        *,
        n_complete * item_squares
        - (s1 * s1 + s2 * s2 + s3 * s3 + s4 * s4 + s5 * s5 + s6 * s6) AS item_spread,
        n_complete * total_squares - total_sum * total_sum AS total_spread
    FROM sums
)

SELECT
    program,
    survey_id,
    role,
    n_complete,
    n_respondents,
    CASE
        WHEN n_complete >= 2 AND total_spread > 0 AND n_respondents >= getvariable('min_group_size')
            THEN 6 / 5 * (1 - item_spread / total_spread)
    END::DOUBLE AS alpha
FROM spreads
ORDER BY program, survey_id, role
