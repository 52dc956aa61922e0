-- The known matches as of D (roster matches with matched_on <= D): the one definition of
-- "known", read by match_cadence and by the survey marts. Its rows change only when a match
-- begins or the roster changes, so the survey marts, which need no more of a match than its
-- program and cohort, are not recomputed when only meetings or the calendar move.
SELECT match_id, program, cohort
FROM {{ ref('matches') }}
WHERE matched_on <= getvariable('as_of')
ORDER BY match_id
