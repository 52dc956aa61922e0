-- The early warning's two marts (docs/model_card.md), created empty with their comments and
-- filled by assets/warehouse/early_warning.py (a fitted model is not SQL). The data
-- dictionary builds them from this file too, so the comments are written once.
CREATE SCHEMA IF NOT EXISTS marts;

CREATE OR REPLACE TABLE marts.match_risk (
    as_of DATE,
    match_id VARCHAR,
    program VARCHAR,
    cohort VARCHAR,
    mentor_key VARCHAR,
    mentee_key VARCHAR,
    matched_on DATE,
    rule_status VARCHAR,
    rule_flag BOOLEAN,
    probability DOUBLE,
    risk_rank INTEGER,
    reasons VARCHAR,
    model_status VARCHAR,
    model_note VARCHAR
);

COMMENT ON TABLE marts.match_risk IS 'Early warning: one row per match active at the as-of date D, with the forecast probability that within 60 days it closes early or holds no meeting, its rank and the three features pushing it most. No survey answer is used. When the history is too short to fit (model_status too_short) probability is NULL and the rank follows the rule (match_cadence status). See docs/model_card.md.';
COMMENT ON COLUMN marts.match_risk.as_of IS 'The as-of date D the forecast is made on.';
COMMENT ON COLUMN marts.match_risk.match_id IS 'Match identifier from the roster.';
COMMENT ON COLUMN marts.match_risk.program IS 'Mentoring program of the match.';
COMMENT ON COLUMN marts.match_risk.cohort IS 'Cohort of the match within its program.';
COMMENT ON COLUMN marts.match_risk.mentor_key IS 'Pseudonymous key of the mentor.';
COMMENT ON COLUMN marts.match_risk.mentee_key IS 'Pseudonymous key of the mentee.';
COMMENT ON COLUMN marts.match_risk.matched_on IS 'Date the match started.';
COMMENT ON COLUMN marts.match_risk.rule_status IS 'Status by the current rule as of D (match_cadence.status: too_early, not_started, lapsed, at_risk, on_track).';
COMMENT ON COLUMN marts.match_risk.rule_flag IS 'True when the rule flags the match: rule_status is not_started, lapsed or at_risk.';
COMMENT ON COLUMN marts.match_risk.probability IS 'Forecast probability (0-1) that within (D, D + 60 days] the match closes early (ended_on in the window, end_reason not completed or blank) or holds no meeting. NULL when model_status is too_short, or for a match still in its first weeks (matched fewer than the first-meeting grace days ago: not scored, as the model learnt only from older matches).';
COMMENT ON COLUMN marts.match_risk.risk_rank IS '1 = most at risk. By probability (ties: match_id); with no model, the rule''s flagged matches first, then by days without a meeting. Matches in their first weeks come last.';
COMMENT ON COLUMN marts.match_risk.reasons IS 'The (up to) three features pushing the probability up most, in words, separated by "; " (standardised value times coefficient, positive only). With no model: the rule''s reason.';
COMMENT ON COLUMN marts.match_risk.model_status IS 'fitted: a logistic regression was fitted on the labelled snapshots; too_short: fewer than 300 labelled snapshots or only one outcome, so the ranking falls back to the rule.';
COMMENT ON COLUMN marts.match_risk.model_note IS 'What the model was fitted on (labelled snapshots, positives, month ends), or why it was not.';

CREATE OR REPLACE TABLE marts.risk_backtest (
    test_month DATE,
    model_status VARCHAR,
    model_note VARCHAR,
    train_snapshots INTEGER,
    train_positives INTEGER,
    matches INTEGER,
    positives INTEGER,
    auc DOUBLE,
    brier DOUBLE,
    flagged INTEGER,
    model_precision DOUBLE,
    model_recall DOUBLE,
    rule_precision DOUBLE,
    rule_recall DOUBLE,
    calibration VARCHAR
);

COMMENT ON TABLE marts.risk_backtest IS 'Rolling-origin back-test of the early warning: one row per test month (the last 6 month ends whose 60-day outcome is known by D). For each, the model is fitted only on snapshots whose outcome was known at that month end (snapshot_on + 60 days <= test_month) and scores that month''s active matches. A single row with test_month NULL says there is no month to test. See docs/model_card.md.';
COMMENT ON COLUMN marts.risk_backtest.test_month IS 'Month end m scored: matches active at m, past their first weeks.';
COMMENT ON COLUMN marts.risk_backtest.model_status IS 'fitted, or too_short (fewer than 300 training snapshots or one outcome only: model figures NULL, the rule''s still given).';
COMMENT ON COLUMN marts.risk_backtest.model_note IS 'Why the model was not fitted for this month, else NULL.';
COMMENT ON COLUMN marts.risk_backtest.train_snapshots IS 'Labelled snapshots the model for this month was fitted on.';
COMMENT ON COLUMN marts.risk_backtest.train_positives IS 'Of those, snapshots whose outcome was positive (closed early or no meeting within 60 days).';
COMMENT ON COLUMN marts.risk_backtest.matches IS 'Matches scored at test_month.';
COMMENT ON COLUMN marts.risk_backtest.positives IS 'Of those, matches that closed early or held no meeting within (test_month, test_month + 60 days].';
COMMENT ON COLUMN marts.risk_backtest.auc IS 'Area under the ROC curve of the probabilities (sklearn roc_auc_score); NULL when one outcome only or no model.';
COMMENT ON COLUMN marts.risk_backtest.brier IS 'Brier score: mean squared difference between probability and outcome (0/1); lower is better. NULL with no model.';
COMMENT ON COLUMN marts.risk_backtest.flagged IS 'Matches the rule flags at test_month (status not_started, lapsed or at_risk); the model is judged flagging as many, the highest probabilities (ties: match_id).';
COMMENT ON COLUMN marts.risk_backtest.model_precision IS 'Share of the model''s flagged matches that were positive; NULL when flagged = 0 or no model.';
COMMENT ON COLUMN marts.risk_backtest.model_recall IS 'Share of the positives the model flagged; NULL when positives = 0 or no model.';
COMMENT ON COLUMN marts.risk_backtest.rule_precision IS 'Share of the rule''s flagged matches that were positive; NULL when flagged = 0.';
COMMENT ON COLUMN marts.risk_backtest.rule_recall IS 'Share of the positives the rule flagged; NULL when positives = 0.';
COMMENT ON COLUMN marts.risk_backtest.calibration IS 'Calibration table as JSON: a list of fixed probability bins [bin_low, bin_high) of width 0.1 (the last includes 1) with matches, mean_probability and observed_rate, non-empty bins only; NULL with no model.';
