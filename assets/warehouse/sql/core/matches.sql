-- Every roster match: the latest row per match_id (by file name, then line) wins, which is
-- how an ending is recorded. Whether a match is known on D is decided in the marts.
CREATE OR REPLACE TABLE core.matches AS
SELECT
    m.match_id,
    m.program,
    m.cohort,
    mentor.participant_key AS mentor_key,
    mentee.participant_key AS mentee_key,
    m.matched_on,
    m.ended_on,
    m.end_reason,
    m.target_meetings_per_month
FROM staging.matches AS m
JOIN restricted.participant_keys AS mentor ON mentor.participant_id = m.mentor_id
JOIN restricted.participant_keys AS mentee ON mentee.participant_id = m.mentee_id
QUALIFY row_number() OVER (
    PARTITION BY m.match_id ORDER BY m._file_name DESC, m._source_path DESC, m._line DESC
) = 1;

COMMENT ON TABLE core.matches IS 'One row per mentoring match from the roster: the latest row per match_id by file name, then line.';
COMMENT ON COLUMN core.matches.match_id IS 'Match identifier.';
COMMENT ON COLUMN core.matches.program IS 'Mentoring program.';
COMMENT ON COLUMN core.matches.cohort IS 'Cohort within the program.';
COMMENT ON COLUMN core.matches.mentor_key IS 'Pseudonymous key of the mentor.';
COMMENT ON COLUMN core.matches.mentee_key IS 'Pseudonymous key of the mentee.';
COMMENT ON COLUMN core.matches.matched_on IS 'Date the pair was matched.';
COMMENT ON COLUMN core.matches.ended_on IS 'Date the match ended, as in the roster (may be after the as-of date).';
COMMENT ON COLUMN core.matches.end_reason IS 'Why the match ended: completed, mentor_withdrew, mentee_withdrew, no_engagement, rematched, other.';
COMMENT ON COLUMN core.matches.target_meetings_per_month IS 'Meetings a month expected of this match; NULL when the roster gives none (the default applies).';
