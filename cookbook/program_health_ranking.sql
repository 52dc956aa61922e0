-- How does each cohort's health compare, and which component drags it down?
SELECT program, cohort, health_score, health_band, on_track_share, goal_attainment_rate,
    satisfaction_mean, response_rate_90d, active_matches
FROM marts.program_health
WHERE cohort <> '(all)'
ORDER BY health_score NULLS LAST, program, cohort;
