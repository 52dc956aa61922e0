-- Which mentors (pseudonymous keys) have more than one mentee at risk or lapsed?
SELECT mentor_key, count(*) AS pairs_at_risk, string_agg(match_id, ', ' ORDER BY match_id) AS matches
FROM marts.at_risk_matches
GROUP BY mentor_key
HAVING count(*) > 1
ORDER BY pairs_at_risk DESC, mentor_key;
