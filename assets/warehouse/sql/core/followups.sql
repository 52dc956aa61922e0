-- Follow-ups of program managers with pairs (landing/followups/), seen by D: who was
-- contacted, when, how and with what result. Who made contact and the note stay in staging
-- (restricted); the restricted queue joins them in from there.
CREATE OR REPLACE TABLE core.followups AS
SELECT
    f.followup_id,
    f.match_id,
    f.contacted_on,
    f.channel,
    f.outcome
FROM staging.followups AS f
WHERE f.contacted_on <= getvariable('as_of');

COMMENT ON TABLE core.followups IS 'One row per follow-up (a program manager contacted a pair) dated on or before the as-of date; who and the note are not copied.';
COMMENT ON COLUMN core.followups.followup_id IS 'Follow-up identifier.';
COMMENT ON COLUMN core.followups.match_id IS 'The pair contacted.';
COMMENT ON COLUMN core.followups.contacted_on IS 'Date of the contact.';
COMMENT ON COLUMN core.followups.channel IS 'How: email, phone, video, in_person, chat, other.';
COMMENT ON COLUMN core.followups.outcome IS 'Result: reached, meeting_planned, no_answer, declined, pair_ended, other.';
