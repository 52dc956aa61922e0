-- The state of every SQL-built warehouse table: what its content was computed from, and
-- whether it is current. One row per table, replaced each time the table is considered.
CREATE SCHEMA IF NOT EXISTS ingest;
CREATE TABLE IF NOT EXISTS ingest.table_builds (
    table_name VARCHAR PRIMARY KEY,
    status VARCHAR NOT NULL,
    current BOOLEAN NOT NULL,
    content_as_of DATE,
    considered_in_run VARCHAR,
    computed_in_run VARCHAR,
    seconds DOUBLE,
    detail VARCHAR,
    input_hash VARCHAR,
    content_hash VARCHAR,
    check_results VARCHAR,
    CHECK (status IN ('built', 'reused', 'failed', 'held_back', 'upstream_failed'))
);
COMMENT ON TABLE ingest.table_builds IS 'One row per core and mart table built from SQL: whether its content is current for the as-of date of core.run_info. A table whose build failed, or whose blocking check failed, keeps its previous content (current = false), and so does every table that reads it; all other tables are still built and published.';
COMMENT ON COLUMN ingest.table_builds.table_name IS 'schema.table, e.g. marts.match_cadence.';
COMMENT ON COLUMN ingest.table_builds.status IS 'built (computed in the last run), reused (its inputs - SQL, the settings it reads, the content of every table it reads - were unchanged, so its content was kept: identical to a rebuild), failed (its SQL failed; see detail), held_back (a blocking data check failed, so the new content was not kept; see detail) or upstream_failed (a table it reads is not current).';
COMMENT ON COLUMN ingest.table_builds.current IS 'True when the content is the one the last run computed or confirmed (built or reused); false when it is an older version kept after a failure.';
COMMENT ON COLUMN ingest.table_builds.content_as_of IS 'The as-of date the table''s content was computed or confirmed for.';
COMMENT ON COLUMN ingest.table_builds.considered_in_run IS 'The Dagster run that last considered the table.';
COMMENT ON COLUMN ingest.table_builds.computed_in_run IS 'The Dagster run that computed the content the table holds.';
COMMENT ON COLUMN ingest.table_builds.seconds IS 'Seconds the last run spent on the table (building or confirming it); for the two marts the early warning builds together, the time of that whole step, on each.';
COMMENT ON COLUMN ingest.table_builds.detail IS 'Why the table is not current: the failing SQL file, the error, and the input file and line the error points at when one can be found; or the failing check.';
COMMENT ON COLUMN ingest.table_builds.input_hash IS 'Hash of everything the content was computed from (not published).';
COMMENT ON COLUMN ingest.table_builds.content_hash IS 'Hash of the content (not published).';
COMMENT ON COLUMN ingest.table_builds.check_results IS 'The data checks of the table on its content, as JSON (not published).';
