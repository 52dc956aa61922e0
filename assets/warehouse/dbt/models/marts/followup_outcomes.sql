-- Do follow-ups work? Per program (and '(all)'): of the pairs a program manager contacted,
-- the share that held a meeting within 30 days after the contact, beside comparable pairs
-- that were not contacted (docs/metrics.md#follow-up-outcomes). Observational: contacted and
-- not-contacted pairs may differ in ways the data does not show.
WITH held AS (
    SELECT match_id, meeting_date
    FROM {{ ref('meetings') }}
    WHERE status = 'completed' AND meeting_date IS NOT NULL
        AND meeting_date <= getvariable('as_of')
),
-- (pair, day): the pair was matched and not ended on the day, and held no meeting in the
-- 30 days up to it ("quiet": the pairs one contacts).
active_quiet AS (
    SELECT m.match_id, m.program, d.day
    FROM {{ ref('matches') }} AS m
    JOIN (SELECT DISTINCT contacted_on AS day FROM {{ ref('followups') }}) AS d
        ON m.matched_on <= d.day AND (m.ended_on IS NULL OR m.ended_on > d.day)
    WHERE NOT EXISTS (
        SELECT 1 FROM held AS h
        WHERE h.match_id = m.match_id AND h.meeting_date > d.day - 30 AND h.meeting_date <= d.day
    )
),
-- Each pair's first follow-up whose 30 days have passed by D, when the pair was quiet then.
contacted AS (
    SELECT a.match_id, a.program, a.day
    FROM active_quiet AS a
    JOIN (
        SELECT match_id, min(contacted_on) AS day FROM {{ ref('followups') }} GROUP BY match_id
    ) AS f USING (match_id, day)
    WHERE a.day + 30 <= getvariable('as_of')
),
-- Comparable pairs: quiet on a day a pair of the same program was contacted, and not
-- contacted themselves in the 30 days before or after it; each pair once, at its first such day.
program_days AS (
    SELECT DISTINCT m.program, f.contacted_on AS day
    FROM {{ ref('followups') }} AS f JOIN {{ ref('matches') }} AS m USING (match_id)
),
comparison AS (
    SELECT a.match_id, a.program, min(a.day) AS day
    FROM active_quiet AS a
    JOIN program_days AS p USING (program, day)
    WHERE a.day + 30 <= getvariable('as_of')
        AND NOT EXISTS (
            SELECT 1 FROM {{ ref('followups') }} AS f
            WHERE f.match_id = a.match_id AND f.contacted_on BETWEEN a.day - 30 AND a.day + 30
        )
    GROUP BY a.match_id, a.program
),
outcomes AS (
    SELECT g.grp, g.program, g.match_id,
        EXISTS (
            SELECT 1 FROM held AS h
            WHERE h.match_id = g.match_id AND h.meeting_date > g.day AND h.meeting_date <= g.day + 30
        ) AS met_again
    FROM (
        SELECT 'contacted' AS grp, * FROM contacted
        UNION ALL
        SELECT 'comparison' AS grp, * FROM comparison
    ) AS g
),
summary AS (
    SELECT
        {{ rollup_label('program') }} AS program,
        count(*) FILTER (WHERE grp = 'contacted') AS contacted_pairs,
        count(*) FILTER (WHERE grp = 'contacted' AND met_again) AS contacted_met_again,
        count(*) FILTER (WHERE grp = 'comparison') AS comparison_pairs,
        count(*) FILTER (WHERE grp = 'comparison' AND met_again) AS comparison_met_again
    FROM outcomes
    GROUP BY GROUPING SETS ((program), ())
    HAVING count(*) > 0
)

SELECT
    program,
    contacted_pairs,
    contacted_met_again,
    contacted_met_again / nullif(contacted_pairs, 0) AS contacted_rate,
    comparison_pairs,
    comparison_met_again,
    comparison_met_again / nullif(comparison_pairs, 0) AS comparison_rate,
    contacted_met_again / nullif(contacted_pairs, 0)
        - comparison_met_again / nullif(comparison_pairs, 0) AS rate_difference
FROM summary
ORDER BY program = '(all)', program
