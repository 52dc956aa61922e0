-- Whether each warehouse table is current: one row per table, replaced each time a run builds
-- it or has to leave it as it was.
CREATE SCHEMA IF NOT EXISTS ingest;
CREATE TABLE IF NOT EXISTS ingest.table_builds (
    table_name VARCHAR PRIMARY KEY,
    status VARCHAR NOT NULL,
    current BOOLEAN NOT NULL,
    content_as_of DATE,
    considered_in_run VARCHAR,
    computed_in_run VARCHAR,
    seconds DOUBLE,
    detail VARCHAR
);
-- Columns of the content-hash engine that dbt replaced (issue 19).
ALTER TABLE ingest.table_builds DROP COLUMN IF EXISTS input_hash;
ALTER TABLE ingest.table_builds DROP COLUMN IF EXISTS content_hash;
ALTER TABLE ingest.table_builds DROP COLUMN IF EXISTS check_results;
COMMENT ON TABLE ingest.table_builds IS 'One row per core and mart table: whether its content is current for the as-of date of core.run_info. A table whose build failed, or whose blocking data test failed, keeps its previous content (current = false), and so does every table that reads it; all other tables are still built and published.';
COMMENT ON COLUMN ingest.table_builds.table_name IS 'schema.table, e.g. marts.match_cadence.';
COMMENT ON COLUMN ingest.table_builds.status IS 'built (computed in the last run that considered it), failed (its SQL failed; see detail), held_back (a blocking data test failed on the new content, which was not kept; see detail) or upstream_failed (a table it reads is not current).';
COMMENT ON COLUMN ingest.table_builds.current IS 'True when the content is the one the last run computed; false when it is an older version kept after a failure.';
COMMENT ON COLUMN ingest.table_builds.content_as_of IS 'The as-of date the table''s content was computed for.';
COMMENT ON COLUMN ingest.table_builds.considered_in_run IS 'The Dagster run that last built the table or had to leave it as it was.';
COMMENT ON COLUMN ingest.table_builds.computed_in_run IS 'The Dagster run that computed the content the table holds.';
COMMENT ON COLUMN ingest.table_builds.seconds IS 'Seconds the last run spent on the table; for the two marts the early warning builds together, the time of that whole step, on each.';
COMMENT ON COLUMN ingest.table_builds.detail IS 'Why the table is not current: the failing model file and the kind of error, and the input file and line the error points at when one can be found; or the failing blocking test.';
