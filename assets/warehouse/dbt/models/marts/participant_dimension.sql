-- The participant dimension without personal detail: one row per participant of a known
-- match, by pseudonymous key, with role(s), program, department, location and tenure band —
-- the quasi-identifiers — published only where each combination of them is shared by at least
-- k people (k = min_group_size). A person whose full combination is rarer is coarsened step by
-- step, among the people not yet placed: location -> (other); then tenure band wider (<3y,
-- 3y+); then department -> (other); then tenure -> (any). Whoever is still in a group under k
-- after the last step (role and program alone are rarer than k) is left out. Every published
-- combination then has at least k rows, and a person known to an attacker by their true values
-- matches at least their own group's k rows.
WITH known AS (
    SELECT km.program, m.mentor_key, m.mentee_key
    FROM {{ ref('known_matches') }} AS km
    JOIN {{ ref('matches') }} AS m USING (match_id)
),

roles AS (
    SELECT
        participant_key,
        CASE
            WHEN bool_or(role = 'mentor') AND bool_or(role = 'mentee') THEN 'both'
            ELSE any_value(role)
        END AS role,
        CASE WHEN count(DISTINCT program) = 1 THEN any_value(program) ELSE '(several)' END
            AS program
    FROM (
        SELECT mentor_key AS participant_key, 'mentor' AS role, program FROM known
        UNION ALL
        SELECT mentee_key AS participant_key, 'mentee' AS role, program FROM known
    )
    GROUP BY participant_key
),

people AS (
    SELECT
        r.participant_key,
        r.role,
        r.program,
        coalesce(nullif(trim(p.department), ''), '(unknown)') AS department,
        coalesce(nullif(trim(p.location), ''), '(unknown)') AS location,
        -- whole years from joining the organisation to D
        CASE
            WHEN p.joined_on IS NULL THEN '(unknown)'
            WHEN p.joined_on > getvariable('as_of') - INTERVAL 1 YEAR THEN '<1y'
            WHEN p.joined_on > getvariable('as_of') - INTERVAL 3 YEAR THEN '1-3y'
            WHEN p.joined_on > getvariable('as_of') - INTERVAL 5 YEAR THEN '3-5y'
            ELSE '5y+'
        END AS tenure_band,
        CASE
            WHEN p.joined_on IS NULL THEN '(unknown)'
            WHEN p.joined_on > getvariable('as_of') - INTERVAL 3 YEAR THEN '<3y'
            ELSE '3y+'
        END AS tenure_wide
    FROM roles AS r
    LEFT JOIN {{ ref('participants') }} AS p USING (participant_key)
),

-- Each step: the people not placed yet, at that step's detail, placed when their group has k.
step1 AS (
    SELECT participant_key, role, program, department, location, tenure_band AS tenure,
        1 AS step, tenure_wide
    FROM people
),
counted1 AS (
    SELECT *, count(*) OVER (PARTITION BY role, program, department, location, tenure) AS n
    FROM step1
),
step2 AS (
    SELECT participant_key, role, program, department, '(other)' AS location, tenure,
        2 AS step, tenure_wide
    FROM counted1 WHERE n < getvariable('min_group_size')
),
counted2 AS (
    SELECT *, count(*) OVER (PARTITION BY role, program, department, location, tenure) AS n
    FROM step2
),
step3 AS (
    SELECT participant_key, role, program, department, location, tenure_wide AS tenure,
        3 AS step, tenure_wide
    FROM counted2 WHERE n < getvariable('min_group_size')
),
counted3 AS (
    SELECT *, count(*) OVER (PARTITION BY role, program, department, location, tenure) AS n
    FROM step3
),
step4 AS (
    SELECT participant_key, role, program, '(other)' AS department, location, tenure,
        4 AS step, tenure_wide
    FROM counted3 WHERE n < getvariable('min_group_size')
),
counted4 AS (
    SELECT *, count(*) OVER (PARTITION BY role, program, department, location, tenure) AS n
    FROM step4
),
step5 AS (
    SELECT participant_key, role, program, department, location, '(any)' AS tenure,
        5 AS step, tenure_wide
    FROM counted4 WHERE n < getvariable('min_group_size')
),
counted5 AS (
    SELECT *, count(*) OVER (PARTITION BY role, program, department, location, tenure) AS n
    FROM step5
),

placed AS (
    SELECT * FROM counted1 WHERE n >= getvariable('min_group_size')
    UNION ALL SELECT * FROM counted2 WHERE n >= getvariable('min_group_size')
    UNION ALL SELECT * FROM counted3 WHERE n >= getvariable('min_group_size')
    UNION ALL SELECT * FROM counted4 WHERE n >= getvariable('min_group_size')
    UNION ALL SELECT * FROM counted5 WHERE n >= getvariable('min_group_size')
)

SELECT
    participant_key,
    role,
    program,
    department,
    location,
    tenure AS tenure_band,
    count(*) OVER (PARTITION BY role, program, department, location, tenure) AS group_size
FROM placed
ORDER BY program, role, department, location, tenure_band, participant_key
