-- What was rejected at ingest, by source and rule, and which files had the most?
SELECT source, reason, count(*) AS records, count(DISTINCT path) AS files,
    arg_max(path, 1) AS example_file
FROM ingest.quarantine
GROUP BY ALL
ORDER BY records DESC;
