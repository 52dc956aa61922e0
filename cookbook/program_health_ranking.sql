-- How do the live cohorts' health compare, and which component drags each down? Only cohorts
-- still running (marts.cohorts: live, with active matches) and whose score stands on at least
-- three of its four components are ranked: a finished cohort has no active pairs, recent
-- surveys or invitations, and a score from its one remaining component (goals) would rank it
-- unfairly. The weakest component is the lowest of the four on a 0-1 scale (satisfaction
-- rescaled from 1-5 as the score does).
WITH scored AS (
    SELECT h.program, h.cohort, c.cohort_order, c.starts_on, h.health_score, h.health_band,
        h.on_track_share, h.goal_attainment_rate, h.satisfaction_mean, h.response_rate_90d,
        h.active_matches,
        (h.on_track_share IS NOT NULL)::INTEGER + (h.goal_attainment_rate IS NOT NULL)::INTEGER
            + (h.satisfaction_mean IS NOT NULL)::INTEGER
            + (h.response_rate_90d IS NOT NULL)::INTEGER AS components
    FROM marts.program_health AS h
    JOIN marts.cohorts AS c USING (program, cohort)
    WHERE c.status = 'live' AND h.active_matches > 0
)
SELECT program, cohort, starts_on, health_score, health_band, components,
    CASE least(
            coalesce(on_track_share, 2), coalesce(goal_attainment_rate, 2),
            coalesce((satisfaction_mean - 1) / 4, 2), coalesce(response_rate_90d, 2))
        WHEN on_track_share THEN 'cadence (on_track_share)'
        WHEN goal_attainment_rate THEN 'goals (goal_attainment_rate)'
        WHEN (satisfaction_mean - 1) / 4 THEN 'satisfaction (satisfaction_mean)'
        ELSE 'engagement (response_rate_90d)'
    END AS weakest_component,
    on_track_share, goal_attainment_rate, satisfaction_mean, response_rate_90d, active_matches,
    rank() OVER (ORDER BY health_score) AS rank_from_weakest
FROM scored
WHERE components >= 3 AND health_score IS NOT NULL
ORDER BY health_score, program, cohort_order;
