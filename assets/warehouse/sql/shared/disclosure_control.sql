-- Disclosure control, the one rule for every survey-derived figure (METRICS.md, feedback_scores
-- "Complementary suppression"): size, then complementary suppression to a fixed point.
-- A mart includes this file with `-- @include disclosure_control` after it has filled the
-- temporary table disclosure_cells, one row per published group that has respondents:
--   respondents      distinct respondents of the group (the k test and the tie-breaks); a
--                    row with 0 has no figure: it is no group, neither shown nor suppressed
--                    (suppressed stays NULL) and no sibling of any
--   role, role_siblings      mentor / mentee / '(all)' (NULL when the table has no role split)
--                            and the key shared by a group's role siblings: every other
--                            dimension, cohort included
--   cohort, cohort_siblings  cohort or '(all)' and the key shared by a group's cohort
--                            siblings: every other dimension, role included
--   suppressed       set here; the mart then blanks the figures of suppressed groups.
-- Each UPDATE touches only rows it changes, so a quiet pass counts 0 and the runner stops.

-- Size: fewer than k respondents.
UPDATE disclosure_cells
SET suppressed = CASE WHEN respondents > 0 THEN respondents < getvariable('min_group_size') END;

-- @repeat-until-stable
-- (1) Role siblings: when one of mentor/mentee is suppressed and the other exists, suppress it.
UPDATE disclosure_cells AS c
SET suppressed = true
WHERE NOT c.suppressed
    AND c.role IN ('mentor', 'mentee')
    AND EXISTS (
        SELECT 1
        FROM disclosure_cells AS s
        WHERE s.role_siblings = c.role_siblings
            AND s.role IN ('mentor', 'mentee')
            AND s.role <> c.role
            AND s.suppressed
    );
-- (2) Cohort siblings (real cohorts, not '(all)'): when the suppressed ones are exactly one, or
-- several with fewer than k respondents together (their union would be recovered from the
-- parent), suppress the unsuppressed one with the fewest respondents (ties: smallest cohort).
UPDATE disclosure_cells AS c
SET suppressed = true
FROM (
    SELECT
        cohort_siblings,
        cohort,
        suppressed,
        count(*) FILTER (WHERE suppressed) OVER siblings AS suppressed_count,
        coalesce(sum(respondents) FILTER (WHERE suppressed) OVER siblings, 0)
            AS suppressed_respondents,
        row_number() OVER (
            PARTITION BY cohort_siblings, suppressed ORDER BY respondents, cohort
        ) AS smallest_first
    FROM disclosure_cells
    WHERE cohort <> '(all)'
    WINDOW siblings AS (PARTITION BY cohort_siblings)
) AS s
WHERE s.cohort_siblings = c.cohort_siblings
    AND s.cohort = c.cohort
    AND NOT s.suppressed
    AND s.smallest_first = 1
    AND (
        s.suppressed_count = 1
        OR (s.suppressed_count > 1 AND s.suppressed_respondents < getvariable('min_group_size'))
    );
-- @end-repeat
