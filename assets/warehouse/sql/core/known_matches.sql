-- The known matches as of D (roster matches with matched_on <= D): the one definition of
-- "known", read by match_cadence and by the survey marts. Its rows change only when a match
-- begins or the roster changes, so the survey marts, which need no more of a match than its
-- program and cohort, are not recomputed when only meetings or the calendar move.
CREATE OR REPLACE TABLE core.known_matches AS
SELECT match_id, program, cohort
FROM core.matches
WHERE matched_on <= getvariable('as_of')
ORDER BY match_id;

COMMENT ON TABLE core.known_matches IS 'One row per known match: a roster match with matched_on <= the as-of date D. The same matches as the match cadence mart.';
COMMENT ON COLUMN core.known_matches.match_id IS 'The match (core.matches).';
COMMENT ON COLUMN core.known_matches.program IS 'Program of the match.';
COMMENT ON COLUMN core.known_matches.cohort IS 'Cohort of the match.';
