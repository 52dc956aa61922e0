-- What the early warning's next run may reuse (assets/warehouse/early_warning.py): the model
-- fitted on every labelled snapshot, and each back-test month's row, under input_digest, a
-- sha256 of exactly what it was computed from (the labelled snapshot rows it read, the
-- settings and the code versions). Replaced in the transaction that writes the marts; kept
-- in the working database's restricted schema, never published. Run after risk_marts.sql.
CREATE SCHEMA IF NOT EXISTS restricted;

CREATE OR REPLACE TABLE restricted.risk_model_reuse (
    input_digest VARCHAR,
    scaler_mean DOUBLE[],
    scaler_scale DOUBLE[],
    scaler_var DOUBLE[],
    samples_seen BIGINT,
    coefficients DOUBLE[],
    intercept DOUBLE,
    classes BIGINT[],
    iterations INTEGER
);

COMMENT ON TABLE restricted.risk_model_reuse IS 'The early warning''s last fitted model (StandardScaler + LogisticRegression), reused while input_digest is unchanged. Working database only.';
COMMENT ON COLUMN restricted.risk_model_reuse.input_digest IS 'sha256 of the labelled snapshots (match_id, rule_status, label, features per month end), settings and code versions the model was fitted on.';
COMMENT ON COLUMN restricted.risk_model_reuse.scaler_mean IS 'StandardScaler.mean_, one per feature (FEATURE_NAMES order).';
COMMENT ON COLUMN restricted.risk_model_reuse.scaler_scale IS 'StandardScaler.scale_, one per feature.';
COMMENT ON COLUMN restricted.risk_model_reuse.scaler_var IS 'StandardScaler.var_, one per feature.';
COMMENT ON COLUMN restricted.risk_model_reuse.samples_seen IS 'StandardScaler.n_samples_seen_: labelled snapshots fitted on.';
COMMENT ON COLUMN restricted.risk_model_reuse.coefficients IS 'LogisticRegression.coef_, one per standardised feature.';
COMMENT ON COLUMN restricted.risk_model_reuse.intercept IS 'LogisticRegression.intercept_.';
COMMENT ON COLUMN restricted.risk_model_reuse.classes IS 'LogisticRegression.classes_ (0, 1).';
COMMENT ON COLUMN restricted.risk_model_reuse.iterations IS 'LogisticRegression.n_iter_: lbfgs iterations of the fit.';

CREATE OR REPLACE TABLE restricted.risk_backtest_reuse AS
SELECT NULL::VARCHAR AS input_digest, NULL::INTEGER AS position, *
FROM marts.risk_backtest
LIMIT 0;

COMMENT ON TABLE restricted.risk_backtest_reuse IS 'The last run''s marts.risk_backtest rows (same columns), each reused while its input_digest is unchanged. Working database only.';
COMMENT ON COLUMN restricted.risk_backtest_reuse.input_digest IS 'sha256 of what the row was computed from: its test month, the labelled snapshots of its training months and of the test month, settings and code versions.';
COMMENT ON COLUMN restricted.risk_backtest_reuse.position IS 'Row order in marts.risk_backtest (0 = first).';
