-- How many meetings were held each month, program-wide, and how many matches were active?
SELECT program, month_end, active_matches, meetings_held,
    meetings_held / nullif(active_matches, 0) AS meetings_per_active_match, on_track_share
FROM marts.monthly_trends
WHERE cohort = '(all)'
ORDER BY program, month_end;
