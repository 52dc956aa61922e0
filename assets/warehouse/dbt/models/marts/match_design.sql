-- One row per (program, attribute, level) with at least one match, program '(all)' included:
-- how a way of pairing (same or different department and location, the mentor's load) goes
-- with early closure, cadence and goal attainment. Associations in the program's own data,
-- not effects.
WITH people AS (
    -- A person without a participants row has no attributes: every comparison is unknown.
    SELECT
        participant_key,
        nullif(trim(department), '') AS department,
        nullif(trim(location), '') AS location
    FROM {{ ref('participants') }}
),

known AS (
    SELECT
        c.match_id,
        c.program,
        c.mentor_key,
        c.matched_on,
        c.ended_on IS NOT NULL AS ended,
        c.ended_on IS NOT NULL AND m.end_reason IS DISTINCT FROM 'completed' AS closed_early,
        c.cadence_attainment,
        m.ended_on AS roster_ended_on
    FROM {{ ref('match_cadence') }} AS c
    JOIN {{ ref('matches') }} AS m USING (match_id)
),

mentor_load AS (
    -- Known matches of the same mentor (any program) active on this match's matched_on;
    -- the match itself always counts.
    SELECT
        k.match_id,
        1 + count(o.match_id) AS load
    FROM known AS k
    LEFT JOIN known AS o
        ON o.mentor_key = k.mentor_key
        AND o.match_id <> k.match_id
        AND o.matched_on <= k.matched_on
        AND (o.roster_ended_on IS NULL OR o.roster_ended_on > k.matched_on)
    GROUP BY k.match_id
),

attributes AS (
    SELECT
        k.match_id,
        CASE
            WHEN mentor.department IS NULL OR mentee.department IS NULL THEN 'unknown'
            WHEN mentor.department = mentee.department THEN 'same'
            ELSE 'different'
        END AS department,
        CASE
            WHEN mentor.location IS NULL OR mentee.location IS NULL THEN 'unknown'
            WHEN mentor.location = mentee.location THEN 'same'
            ELSE 'different'
        END AS location,
        CASE WHEN l.load >= 3 THEN '3+' ELSE l.load::VARCHAR END AS mentor_load
    FROM known AS k
    JOIN {{ ref('matches') }} AS m USING (match_id)
    JOIN mentor_load AS l USING (match_id)
    LEFT JOIN people AS mentor ON mentor.participant_key = m.mentor_key
    LEFT JOIN people AS mentee ON mentee.participant_key = m.mentee_key
),

levels AS (
    -- One row per (match, attribute); each match also counts in the (all) program.
    SELECT k.*, u.attribute, u.level
    FROM known AS k
    JOIN (
        UNPIVOT attributes ON department, location, mentor_load
        INTO NAME attribute VALUE level
    ) AS u USING (match_id)
),

in_groups AS (
    SELECT * FROM levels
    UNION ALL
    SELECT * REPLACE ('(all)' AS program) FROM levels
),

goals AS (
    SELECT
        match_id,
        count(*) FILTER (WHERE status IN ('achieved', 'abandoned') OR is_overdue) AS decided,
        count(*) FILTER (WHERE status = 'achieved') AS achieved
    FROM {{ ref('goal_status') }}
    GROUP BY match_id
),

level_counts AS (
    SELECT
        g.program,
        g.attribute,
        g.level,
        count(*) AS matches,
        count(*) FILTER (WHERE g.ended) AS ended,
        count(*) FILTER (WHERE g.closed_early) AS closed_early,
        -- Summed in match order, so the mean does not drift with row order.
        list_avg(list(g.cadence_attainment ORDER BY g.match_id) FILTER (
            WHERE g.cadence_attainment IS NOT NULL
        )) AS cadence_attainment_mean,
        coalesce(sum(s.decided), 0)::BIGINT AS goals_decided,
        coalesce(sum(s.achieved), 0)::BIGINT AS goals_achieved
    FROM in_groups AS g
    LEFT JOIN goals AS s USING (match_id)
    GROUP BY ALL
),

rates AS (
    SELECT
        *,
        closed_early / nullif(ended, 0) AS early_closure_rate,
        goals_achieved / nullif(goals_decided, 0) AS goal_attainment_rate
    FROM level_counts
)

SELECT
    program,
    attribute,
    level,
    matches,
    ended,
    closed_early,
    early_closure_rate::DOUBLE AS early_closure_rate,
    {{ wilson_interval('early_closure_rate', 'ended', '-') }}::DOUBLE AS early_closure_ci_low,
    {{ wilson_interval('early_closure_rate', 'ended', '+') }}::DOUBLE AS early_closure_ci_high,
    cadence_attainment_mean::DOUBLE AS cadence_attainment_mean,
    goals_decided,
    goal_attainment_rate::DOUBLE AS goal_attainment_rate,
    {{ wilson_interval('goal_attainment_rate', 'goals_decided', '-') }}::DOUBLE
        AS goal_attainment_ci_low,
    {{ wilson_interval('goal_attainment_rate', 'goals_decided', '+') }}::DOUBLE
        AS goal_attainment_ci_high
FROM rates
ORDER BY program, attribute, level
