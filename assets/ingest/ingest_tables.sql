-- The ingest bookkeeping tables. Staging tables are generated from the contract (loader.py).
CREATE SCHEMA IF NOT EXISTS ingest;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS restricted;

CREATE TABLE IF NOT EXISTS ingest.files (
    path VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    sha256 VARCHAR,
    bytes BIGINT NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_duplicate BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    status VARCHAR NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL,
    load_id VARCHAR NOT NULL,
    unknown_fields INTEGER NOT NULL,
    unknown_field_names VARCHAR,
    message VARCHAR,
    file_mtime_ns BIGINT,
    run_id VARCHAR,
    CHECK (rows_read = rows_loaded + rows_duplicate + rows_quarantined),
    CHECK (status IN ('loaded', 'duplicate_file', 'rejected'))
);
COMMENT ON TABLE ingest.files IS 'One row per landed file seen (a file whose bytes change after ingest gets a second, rejected row). Invariant: rows_read = rows_loaded + rows_duplicate + rows_quarantined.';
COMMENT ON COLUMN ingest.files.path IS 'Path of the file relative to landing/.';
COMMENT ON COLUMN ingest.files.source IS 'Contract source: participants, matches, meetings, goals, responses or invitations; or a tool''s export mapped onto one: survey_exports (into responses), calendar (into meetings).';
COMMENT ON COLUMN ingest.files.sha256 IS 'SHA-256 of the file bytes; a file whose bytes match an earlier one (not rejected) is a duplicate_file. NULL when the file was never opened (rule file:not_regular: a symlink, FIFO, device or path leaving landing/).';
COMMENT ON COLUMN ingest.files.bytes IS 'File size in bytes; 0 for a file never opened (file:not_regular).';
COMMENT ON COLUMN ingest.files.rows_read IS 'Records read (CSV data rows, non-blank JSONL lines); 0 for duplicate and unreadable files.';
COMMENT ON COLUMN ingest.files.rows_loaded IS 'Records loaded into staging.';
COMMENT ON COLUMN ingest.files.rows_duplicate IS 'Records that exactly repeat one already loaded (same key and content).';
COMMENT ON COLUMN ingest.files.rows_quarantined IS 'Records written to ingest.quarantine with a reason.';
COMMENT ON COLUMN ingest.files.status IS 'loaded, duplicate_file (same bytes as a file already ingested: loads nothing) or rejected (the file as a whole breaks a rule; see message). A rejected file never counts as ingested: its bytes under another name, or the file fixed in place, are read again.';
COMMENT ON COLUMN ingest.files.ingested_at IS 'When the file was ingested.';
COMMENT ON COLUMN ingest.files.load_id IS 'Identifier of this file''s load; staging rows carry it as _load_id.';
COMMENT ON COLUMN ingest.files.unknown_fields IS 'Number of distinct fields or columns not in the contract (ignored).';
COMMENT ON COLUMN ingest.files.unknown_field_names IS 'Names of the ignored unknown fields, comma-separated. A name that may be personal data (holding an @, or a JSON key that is not a plain identifier) is counted in unknown_fields but not listed.';
COMMENT ON COLUMN ingest.files.message IS 'Why a file was rejected or is a duplicate, naming the rule.';
COMMENT ON COLUMN ingest.files.file_mtime_ns IS 'Modification time of the file when ingested (ns since epoch); lets a re-scan skip hashing unchanged files.';
-- Added after the table was first made: older working databases gain it here.
ALTER TABLE ingest.files ALTER COLUMN sha256 DROP NOT NULL;
ALTER TABLE ingest.files ADD COLUMN IF NOT EXISTS run_id VARCHAR;
COMMENT ON COLUMN ingest.files.run_id IS 'The Dagster run that ingested the file (NULL when loaded outside a run); run summaries list what their own run did.';

CREATE TABLE IF NOT EXISTS ingest.quarantine (
    source VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    line BIGINT,
    raw_text VARCHAR,
    reason VARCHAR NOT NULL,
    detail VARCHAR,
    quarantined_at TIMESTAMPTZ NOT NULL,
    load_id VARCHAR NOT NULL
);
COMMENT ON TABLE ingest.quarantine IS 'One row per rejected record, with the rule it broke. A row with reason file:* stands for a whole unreadable file (line is where the problem is, when known).';
COMMENT ON COLUMN ingest.quarantine.source IS 'Contract source of the file.';
COMMENT ON COLUMN ingest.quarantine.path IS 'Path of the file relative to landing/.';
COMMENT ON COLUMN ingest.quarantine.line IS '1-based line in the file where the record starts (an Excel row; for a calendar, the line of the VEVENT its occurrence comes from).';
COMMENT ON COLUMN ingest.quarantine.raw_text IS 'Always NULL: the record''s text may hold personal data, so it is kept only in the restricted working database (restricted.quarantine_raw); `mentorpulse quarantine show FILE LINE` prints it.';
COMMENT ON COLUMN ingest.quarantine.reason IS 'The first rule broken: malformed, missing_field:<name>, bad_type:<name>, bad_value:<name>, conflicting_duplicate, schema:missing_column:<name>, dropped:<status|all_day> or unmatched:<respondent|match> (tools'' exports), or file:<rule> for a whole file.';
COMMENT ON COLUMN ingest.quarantine.detail IS 'What exactly was wrong, e.g. expected one of video|in_person|phone|chat, got zoom.';
COMMENT ON COLUMN ingest.quarantine.quarantined_at IS 'When the record was quarantined.';
COMMENT ON COLUMN ingest.quarantine.load_id IS 'The load of the file (ingest.files.load_id).';

-- The text of each quarantined record, for whoever fixes the file; never published.
CREATE TABLE IF NOT EXISTS restricted.quarantine_raw (
    load_id VARCHAR NOT NULL,
    line BIGINT,
    raw_text VARCHAR
);
COMMENT ON TABLE restricted.quarantine_raw IS 'The text of each quarantined record as it stands in the landing file (personal data included), by load and line; read by `mentorpulse quarantine show`. Never published.';
-- Working databases from before kept (redacted) text in ingest.quarantine: move it here.
INSERT INTO restricted.quarantine_raw
    SELECT DISTINCT load_id, line, raw_text FROM ingest.quarantine WHERE raw_text IS NOT NULL;
UPDATE ingest.quarantine SET raw_text = NULL WHERE raw_text IS NOT NULL;

-- One row: the publication the database belongs to (the published copy names its own).
CREATE TABLE IF NOT EXISTS ingest.publication (
    version VARCHAR NOT NULL,
    parquet_dir VARCHAR NOT NULL,
    parquet_files INTEGER NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    as_of DATE NOT NULL
);
COMMENT ON TABLE ingest.publication IS 'One row naming this publication: the Parquet set published with this warehouse. Read the Parquet of exactly this warehouse from warehouse/<parquet_dir>/ (warehouse/parquet links to the newest set).';
COMMENT ON COLUMN ingest.publication.version IS 'Publication version (UTC time it started, sortable); every Parquet file of the set carries it as key-value metadata mentorpulse_version.';
COMMENT ON COLUMN ingest.publication.parquet_dir IS 'Folder of this publication''s Parquet files, relative to warehouse/: parquet-<version>.';
COMMENT ON COLUMN ingest.publication.parquet_files IS 'Number of Parquet files in the set: one per published table (<table>.parquet for a mart, <schema>.<table>.parquet for the others).';
COMMENT ON COLUMN ingest.publication.published_at IS 'When the publication was built.';
COMMENT ON COLUMN ingest.publication.as_of IS 'The as-of date D the marts were computed for.';
