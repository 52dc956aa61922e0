-- Which active pairs have had no held meeting in the last 45 days (or none at all)?
SELECT program, cohort, match_id, matched_on, last_meeting_on, days_since_last_meeting, status
FROM marts.match_cadence
WHERE is_active
  AND (days_since_last_meeting > 45 OR (last_meeting_on IS NULL AND active_days > 45))
ORDER BY days_since_last_meeting DESC NULLS FIRST, match_id;
