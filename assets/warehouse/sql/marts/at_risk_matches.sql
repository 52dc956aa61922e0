-- The match_cadence rows that need a program manager's attention, with a reason in words.
-- Keys only: names are joined in by dashboards from restricted data, never stored here.
CREATE OR REPLACE TABLE marts.at_risk_matches AS
WITH flagged AS (
    SELECT
        mc.*,
        -- 2 -> '2', 1.5 -> '1.5': targets read as people write them.
        printf('%g', mc.target_per_month) AS target_text,
        -- The interval the target implies, in whole days (target 2/month -> every 15 days),
        -- as text: printed from the DOUBLE, so no target can overflow an integer cast.
        printf('%.0f', round(30.4375 / mc.target_per_month)) AS expected_gap_days
    FROM marts.match_cadence AS mc
    WHERE mc.status IN ('not_started', 'lapsed', 'at_risk')
)

SELECT
    * EXCLUDE (target_text, expected_gap_days),
    CASE status
        WHEN 'not_started' THEN
            'no meeting yet, ' || active_days || ' days after matching; target '
            || target_text || '/month'
        WHEN 'lapsed' THEN
            'no meeting for ' || days_since_last_meeting || ' days; target '
            || target_text || '/month'
        WHEN 'at_risk' THEN
            'last meeting ' || days_since_last_meeting || ' days ago; expected every '
            || expected_gap_days || ' days (target ' || target_text || '/month)'
    END AS reason
FROM flagged
ORDER BY
    CASE status WHEN 'not_started' THEN 1 WHEN 'lapsed' THEN 2 ELSE 3 END,
    program, cohort, match_id;

COMMENT ON TABLE marts.at_risk_matches IS 'The match_cadence rows whose status is not_started, lapsed or at_risk, with every match_cadence column and a human-readable reason. Participants appear as keys only.';
COMMENT ON COLUMN marts.at_risk_matches.match_id IS 'Match identifier from the roster.';
COMMENT ON COLUMN marts.at_risk_matches.program IS 'Mentoring program of the match.';
COMMENT ON COLUMN marts.at_risk_matches.cohort IS 'Cohort of the match within its program.';
COMMENT ON COLUMN marts.at_risk_matches.mentor_key IS 'Pseudonymous key of the mentor.';
COMMENT ON COLUMN marts.at_risk_matches.mentee_key IS 'Pseudonymous key of the mentee.';
COMMENT ON COLUMN marts.at_risk_matches.matched_on IS 'Date the match started.';
COMMENT ON COLUMN marts.at_risk_matches.ended_on IS 'Roster end date when on or before D; always NULL here since ended matches are never at risk.';
COMMENT ON COLUMN marts.at_risk_matches.is_active IS 'True when the match has not ended by D (always true here).';
COMMENT ON COLUMN marts.at_risk_matches.active_days IS 'Days from matched_on to D.';
COMMENT ON COLUMN marts.at_risk_matches.target_per_month IS 'Meetings a month expected: the roster target of the match, else the default setting.';
COMMENT ON COLUMN marts.at_risk_matches.meetings_held IS 'Completed meetings dated within the match window.';
COMMENT ON COLUMN marts.at_risk_matches.meetings_cancelled IS 'Cancelled meetings dated within the match window.';
COMMENT ON COLUMN marts.at_risk_matches.meetings_no_show IS 'No-show meetings dated within the match window.';
COMMENT ON COLUMN marts.at_risk_matches.meetings_per_month IS 'meetings_held / (active_days / 30.4375); NULL when active_days < 14.';
COMMENT ON COLUMN marts.at_risk_matches.cadence_attainment IS 'least(meetings_per_month / target_per_month, 1); NULL when meetings_per_month is NULL.';
COMMENT ON COLUMN marts.at_risk_matches.first_meeting_on IS 'Date of the first held meeting in the window; NULL when none.';
COMMENT ON COLUMN marts.at_risk_matches.days_to_first_meeting IS 'first_meeting_on - matched_on, in days.';
COMMENT ON COLUMN marts.at_risk_matches.last_meeting_on IS 'Date of the last held meeting in the window; NULL when none.';
COMMENT ON COLUMN marts.at_risk_matches.days_since_last_meeting IS 'D - last_meeting_on, in days; NULL when no meeting was held.';
COMMENT ON COLUMN marts.at_risk_matches.median_gap_days IS 'Continuous median of the day gaps between consecutive held-meeting dates; NULL with fewer than 2 held meetings.';
COMMENT ON COLUMN marts.at_risk_matches.gap_cv IS 'Population standard deviation of the gaps divided by their mean; NULL with fewer than 2 gaps or a mean of 0.';
COMMENT ON COLUMN marts.at_risk_matches.cancellation_rate IS 'cancelled / (held + cancelled + no_show); NULL when that sum is 0.';
COMMENT ON COLUMN marts.at_risk_matches.no_show_rate IS 'no_show / (held + no_show); NULL when that sum is 0.';
COMMENT ON COLUMN marts.at_risk_matches.status IS 'not_started (no held meeting after the grace days), lapsed (no meeting for more than the lapse days) or at_risk (no meeting for more than twice the interval the target implies).';
COMMENT ON COLUMN marts.at_risk_matches.reason IS 'Why the match is listed, in words: not_started gives the days since matching, lapsed the days without a meeting, at_risk the days since the last meeting and the interval the target implies (round(30.4375 / target) days); e.g. no meeting for 74 days; target 2/month.';
