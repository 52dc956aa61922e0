-- The ingest bookkeeping tables. Staging tables are generated from the contract (loader.py).
CREATE SCHEMA IF NOT EXISTS ingest;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS restricted;

CREATE TABLE IF NOT EXISTS ingest.files (
    path VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
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
    CHECK (rows_read = rows_loaded + rows_duplicate + rows_quarantined),
    CHECK (status IN ('loaded', 'duplicate_file', 'rejected'))
);
COMMENT ON TABLE ingest.files IS 'One row per landed file seen (a file whose bytes change after ingest gets a second, rejected row). Invariant: rows_read = rows_loaded + rows_duplicate + rows_quarantined.';
COMMENT ON COLUMN ingest.files.path IS 'Path of the file relative to landing/.';
COMMENT ON COLUMN ingest.files.source IS 'Contract source: participants, matches, meetings, goals, responses or invitations; or a tool''s export mapped onto one: survey_exports (into responses), calendar (into meetings).';
COMMENT ON COLUMN ingest.files.sha256 IS 'SHA-256 of the file bytes; a file whose bytes match an earlier one is a duplicate_file.';
COMMENT ON COLUMN ingest.files.bytes IS 'File size in bytes.';
COMMENT ON COLUMN ingest.files.rows_read IS 'Records read (CSV data rows, non-blank JSONL lines); 0 for duplicate and unreadable files.';
COMMENT ON COLUMN ingest.files.rows_loaded IS 'Records loaded into staging.';
COMMENT ON COLUMN ingest.files.rows_duplicate IS 'Records that exactly repeat one already loaded (same key and content).';
COMMENT ON COLUMN ingest.files.rows_quarantined IS 'Records written to ingest.quarantine with a reason.';
COMMENT ON COLUMN ingest.files.status IS 'loaded, duplicate_file (same bytes as a file already ingested: loads nothing) or rejected (the file as a whole breaks a rule; see message).';
COMMENT ON COLUMN ingest.files.ingested_at IS 'When the file was ingested.';
COMMENT ON COLUMN ingest.files.load_id IS 'Identifier of this file''s load; staging rows carry it as _load_id.';
COMMENT ON COLUMN ingest.files.unknown_fields IS 'Number of distinct fields or columns not in the contract (ignored).';
COMMENT ON COLUMN ingest.files.unknown_field_names IS 'Names of the ignored unknown fields, comma-separated.';
COMMENT ON COLUMN ingest.files.message IS 'Why a file was rejected or is a duplicate, naming the rule.';
COMMENT ON COLUMN ingest.files.file_mtime_ns IS 'Modification time of the file when ingested (ns since epoch); lets a re-scan skip hashing unchanged files.';

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
COMMENT ON COLUMN ingest.quarantine.raw_text IS 'The record as it stands in the file, with personal fields (names, e-mails, notes, comments) replaced by [redacted]; the landing file keeps the original.';
COMMENT ON COLUMN ingest.quarantine.reason IS 'The first rule broken: malformed, missing_field:<name>, bad_type:<name>, bad_value:<name>, conflicting_duplicate, schema:missing_column:<name>, dropped:<status> or unmatched:<respondent|match> (tools'' exports), or file:<rule> for a whole file.';
COMMENT ON COLUMN ingest.quarantine.detail IS 'What exactly was wrong, e.g. expected one of video|in_person|phone|chat, got zoom.';
COMMENT ON COLUMN ingest.quarantine.quarantined_at IS 'When the record was quarantined.';
COMMENT ON COLUMN ingest.quarantine.load_id IS 'The load of the file (ingest.files.load_id).';
