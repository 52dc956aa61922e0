-- The match_cadence rows that need a program manager's attention, with a reason in words.
-- Keys only: names are joined in by dashboards from restricted data, never stored here.
WITH flagged AS (
    SELECT
        mc.*,
        -- 2 -> '2', 1.5 -> '1.5': targets read as people write them.
        printf('%g', mc.target_per_month) AS target_text,
        -- The interval the target implies, in whole days (target 2/month -> every 15 days),
        -- as text: printed from the DOUBLE, so no target can overflow an integer cast.
        printf('%.0f', round(30.4375 / mc.target_per_month)) AS expected_gap_days
    FROM {{ ref('match_cadence') }} AS mc
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
    program, cohort, match_id
