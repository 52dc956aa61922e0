-- The outcome marts' matches (assets/warehouse/outcomes.py): one row per known match with its
-- duration t = end - matched_on, how it ended by D (status 0: still active, censored at t;
-- 1: closed early, end_reason not completed, blank included; 2: completed), the reason of an
-- early closure, and the ways of pairing of marts.match_design.
WITH people AS (
    -- A person without a participants row has no attributes: every comparison is unknown.
    SELECT
        participant_key,
        nullif(trim(department), '') AS department,
        nullif(trim(location), '') AS location
    FROM core.participants
),

known AS (
    SELECT
        c.match_id,
        c.program,
        c.cohort,
        c.mentor_key,
        c.mentee_key,
        c.matched_on,
        c.active_days AS t,
        CASE
            WHEN c.ended_on IS NULL THEN 0
            WHEN m.end_reason IS DISTINCT FROM 'completed' THEN 1
            ELSE 2
        END AS status,
        -- A blank reason is an unknown one.
        coalesce(nullif(trim(m.end_reason), ''), 'unknown_reason') AS reason,
        c.cadence_attainment,
        m.ended_on AS roster_ended_on
    FROM marts.match_cadence AS c
    JOIN core.matches AS m USING (match_id)
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
)

SELECT
    k.match_id,
    k.program,
    k.cohort,
    k.t::BIGINT AS t,
    k.status::BIGINT AS status,
    k.reason,
    k.cadence_attainment::DOUBLE AS cadence_attainment,
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
JOIN mentor_load AS l USING (match_id)
LEFT JOIN people AS mentor ON mentor.participant_key = k.mentor_key
LEFT JOIN people AS mentee ON mentee.participant_key = k.mentee_key
ORDER BY k.match_id
