-- Per match with a goal (marts.goal_status): goals decided (achieved, abandoned or overdue)
-- and achieved, for marts.match_design.
SELECT
    match_id,
    count(*) FILTER (WHERE status IN ('achieved', 'abandoned') OR is_overdue)::BIGINT
        AS goals_decided,
    count(*) FILTER (WHERE status = 'achieved')::BIGINT AS goals_achieved
FROM marts.goal_status
GROUP BY match_id
ORDER BY match_id
