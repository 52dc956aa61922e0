-- Do mentees of some departments close early more often? Known matches by the mentee's
-- department (marts.participants: a department shared by fewer than k people there is already
-- (other)), over all programs. As in marts.match_closures, a match closed early ended by the
-- as-of date with a reason other than completed; the share here is closed_early / matches (of
-- all the department's known matches, live ones included: closed_early / ended would count
-- live cohorts' few endings, nearly all early, and rank departments by cohort age). Small groups are suppressed: departments with
-- fewer than k mentees are pooled into '(smaller departments)'; a figure about fewer than k
-- mentees is blank, and then so is the next smallest group's, so that no hidden figure can be
-- worked out from the others and the totals of marts.match_closures. Mentees left out of the
-- participant dimension are in no row.
WITH k AS (SELECT min_group_size AS k FROM core.run_info),
matches AS (
    SELECT p.department, c.mentee_key, c.ended_on IS NOT NULL AS ended,
        c.ended_on IS NOT NULL AND m.end_reason IS DISTINCT FROM 'completed' AS closed_early
    FROM marts.match_cadence AS c
    JOIN core.matches AS m USING (match_id)
    JOIN marts.participants AS p ON p.participant_key = c.mentee_key
),
by_department AS (
    SELECT department, count(DISTINCT mentee_key) AS mentees FROM matches GROUP BY department
),
pooled AS (
    SELECT CASE WHEN d.mentees < k.k THEN '(smaller departments)' ELSE d.department END
            AS department,
        m.mentee_key, m.ended, m.closed_early
    FROM matches AS m JOIN by_department AS d USING (department) CROSS JOIN k
),
grouped AS (
    SELECT department, count(DISTINCT mentee_key) AS mentees, count(*) AS matches,
        count(*) FILTER (WHERE ended) AS ended,
        count(*) FILTER (WHERE closed_early) AS closed_early
    FROM pooled
    GROUP BY department
),
flagged AS (
    SELECT g.*, g.mentees < k.k AS too_small,
        row_number() OVER (ORDER BY g.mentees, g.department) AS size_rank
    FROM grouped AS g CROSS JOIN k
),
hidden AS (
    -- the small groups, and one more when exactly one group is small (complementary)
    SELECT department FROM flagged
    WHERE too_small
       OR (size_rank = 2 AND (SELECT count(*) FROM flagged WHERE too_small) = 1
           AND (SELECT too_small FROM flagged WHERE size_rank = 1))
)
SELECT department, mentees, matches, ended,
    CASE WHEN department IN (SELECT department FROM hidden) THEN NULL ELSE closed_early END
        AS closed_early,
    CASE WHEN department IN (SELECT department FROM hidden) THEN NULL
        ELSE closed_early / matches END AS closed_early_share,
    department IN (SELECT department FROM hidden) AS suppressed
FROM flagged
ORDER BY suppressed, closed_early_share DESC NULLS LAST, department;
