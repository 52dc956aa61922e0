-- The four outcome marts (METRICS.md, "Outcomes"), created empty with their comments and filled
-- by assets/warehouse/outcomes.py (competing risks, log-rank tests and Feldt's interval come
-- from statsmodels and scipy, not SQL). The data dictionary builds them from this file too,
-- so the comments are written once.
CREATE SCHEMA IF NOT EXISTS marts;

CREATE OR REPLACE TABLE marts.match_retention (
    program VARCHAR,
    cohort VARCHAR,
    day BIGINT,
    matches BIGINT,
    at_risk BIGINT,
    closed_early BIGINT,
    completed BIGINT,
    early_closure DOUBLE,
    early_closure_ci_low DOUBLE,
    early_closure_ci_high DOUBLE,
    survival DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE
);

COMMENT ON TABLE marts.match_retention IS 'One row per (program, cohort, day), day in 30/90/180/365, cohort (all) included: the estimated share of matches that close early within that many days of matching (cumulative incidence, Aalen-Johansen: completion is a competing end, not a censoring), with its delta-method log(-log) 95% interval. Duration t = end - matched_on (end = ended_on if <= D, else D); a match closed early when it ended by D with end_reason other than completed (blank included), completed when it ended by D as completed; active matches are censored at t.';
COMMENT ON COLUMN marts.match_retention.program IS 'Mentoring program.';
COMMENT ON COLUMN marts.match_retention.cohort IS 'Cohort, or (all) for every cohort of the program.';
COMMENT ON COLUMN marts.match_retention.day IS 'Days after matching: 30, 90, 180 or 365.';
COMMENT ON COLUMN marts.match_retention.matches IS 'Known matches in the group.';
COMMENT ON COLUMN marts.match_retention.at_risk IS 'Matches with duration t >= day (followed at least that long); below 10 the estimate is shaky.';
COMMENT ON COLUMN marts.match_retention.closed_early IS 'Matches that closed early with duration t <= day.';
COMMENT ON COLUMN marts.match_retention.completed IS 'Matches that completed with duration t <= day.';
COMMENT ON COLUMN marts.match_retention.early_closure IS 'F(day) = sum over the distinct durations t_i <= day of S(t_i-) e_i / n_i (n_i matches with t >= t_i, e_i early closures at t_i, S(t_i-) the share with no end of either kind before t_i): the estimated share closing early within day days; 0 when none closed early by day; NULL when at_risk = 0 (no match was followed that long).';
COMMENT ON COLUMN marts.match_retention.early_closure_ci_low IS 'Lower bound of the 95% interval of early_closure on the log(-log) scale: F ^ exp(z s), s = se / (F |ln F|), se the delta-method standard error of statsmodels CumIncidenceRight, z = 1.96; NULL when F is NULL, 0 or 1, or some n_i = d_i (every match at risk ended) with t_i <= day.';
COMMENT ON COLUMN marts.match_retention.early_closure_ci_high IS 'Upper bound of that interval: F ^ exp(-z s); NULL in the same cases.';
COMMENT ON COLUMN marts.match_retention.survival IS '1 - early_closure: the estimated share not closed early by day days after matching; NULL when at_risk = 0.';
COMMENT ON COLUMN marts.match_retention.ci_low IS '1 - early_closure_ci_high.';
COMMENT ON COLUMN marts.match_retention.ci_high IS '1 - early_closure_ci_low.';

CREATE OR REPLACE TABLE marts.match_closures (
    program VARCHAR,
    cohort VARCHAR,
    matches BIGINT,
    ended BIGINT,
    completed BIGINT,
    closed_early BIGINT,
    early_closure_rate DOUBLE,
    early_closure_ci_low DOUBLE,
    early_closure_ci_high DOUBLE,
    early_share_of_ended DOUBLE,
    early_share_ci_low DOUBLE,
    early_share_ci_high DOUBLE,
    mentor_withdrew BIGINT,
    mentee_withdrew BIGINT,
    no_engagement BIGINT,
    rematched BIGINT,
    other BIGINT,
    unknown_reason BIGINT,
    median_days_to_early_closure DOUBLE
);

COMMENT ON TABLE marts.match_closures IS 'One row per (program, cohort) with a known match, cohort (all) included: endings by D, the estimated share of matches closing early within a year of matching (cumulative incidence at day 365, as in match_retention) with its interval, what the ends so far were (early_share_of_ended, not a rate), and early closures by reason.';
COMMENT ON COLUMN marts.match_closures.program IS 'Mentoring program.';
COMMENT ON COLUMN marts.match_closures.cohort IS 'Cohort, or (all) for every cohort of the program.';
COMMENT ON COLUMN marts.match_closures.matches IS 'Known matches in the group.';
COMMENT ON COLUMN marts.match_closures.ended IS 'Matches with ended_on <= D.';
COMMENT ON COLUMN marts.match_closures.completed IS 'Ended matches whose end_reason is completed.';
COMMENT ON COLUMN marts.match_closures.closed_early IS 'Ended matches whose end_reason is not completed (blank included).';
COMMENT ON COLUMN marts.match_closures.early_closure_rate IS 'F(365): the estimated share of matches that close early within a year of matching (match_retention.early_closure at day 365); NULL when no match of the group was followed 365 days.';
COMMENT ON COLUMN marts.match_closures.early_closure_ci_low IS 'Lower bound of the log(-log) 95% interval of early_closure_rate, as in match_retention.';
COMMENT ON COLUMN marts.match_closures.early_closure_ci_high IS 'Upper bound of the log(-log) 95% interval of early_closure_rate, as in match_retention.';
COMMENT ON COLUMN marts.match_closures.early_share_of_ended IS 'closed_early / ended: what the ends so far were, not a rate of early closure (in a young cohort most ends so far are early ones); NULL when ended = 0.';
COMMENT ON COLUMN marts.match_closures.early_share_ci_low IS 'Lower bound of the Wilson 95% interval (z = 1.96) of early_share_of_ended on n = ended; NULL when ended = 0.';
COMMENT ON COLUMN marts.match_closures.early_share_ci_high IS 'Upper bound of the Wilson 95% interval (z = 1.96) of early_share_of_ended on n = ended; NULL when ended = 0.';
COMMENT ON COLUMN marts.match_closures.mentor_withdrew IS 'Early closures with end_reason mentor_withdrew.';
COMMENT ON COLUMN marts.match_closures.mentee_withdrew IS 'Early closures with end_reason mentee_withdrew.';
COMMENT ON COLUMN marts.match_closures.no_engagement IS 'Early closures with end_reason no_engagement.';
COMMENT ON COLUMN marts.match_closures.rematched IS 'Early closures with end_reason rematched.';
COMMENT ON COLUMN marts.match_closures.other IS 'Early closures with end_reason other.';
COMMENT ON COLUMN marts.match_closures.unknown_reason IS 'Early closures with a blank end_reason.';
COMMENT ON COLUMN marts.match_closures.median_days_to_early_closure IS 'Continuous median duration (end - matched_on, in days) of the matches that closed early so far; NULL when none.';

CREATE OR REPLACE TABLE marts.match_design (
    program VARCHAR,
    attribute VARCHAR,
    level VARCHAR,
    matches BIGINT,
    ended BIGINT,
    closed_early BIGINT,
    early_closure_rate DOUBLE,
    early_closure_ci_low DOUBLE,
    early_closure_ci_high DOUBLE,
    logrank_p DOUBLE,
    logrank_p_holm DOUBLE,
    cadence_attainment_mean DOUBLE,
    goals_decided BIGINT,
    goal_attainment_rate DOUBLE,
    goal_attainment_ci_low DOUBLE,
    goal_attainment_ci_high DOUBLE
);

COMMENT ON TABLE marts.match_design IS 'One row per (program, attribute, level) with at least one known match, program (all) included, no cohort split: early closure within a year, cadence attainment and goal attainment by way of pairing, and a log-rank test per attribute (Holm-adjusted over the program''s attributes). Attributes come from the latest roster rows of mentor and mentee (values trimmed, case-sensitive). Associations in the program''s own data, not effects.';
COMMENT ON COLUMN marts.match_design.program IS 'Mentoring program, or (all) for every program (their matches pooled).';
COMMENT ON COLUMN marts.match_design.attribute IS 'department, location or mentor_load.';
COMMENT ON COLUMN marts.match_design.level IS 'department and location: same (both non-blank and equal), different (both non-blank, not equal) or unknown; mentor_load: 1, 2 or 3+ known matches of the mentor (any program) active on this match''s matched_on, this match included.';
COMMENT ON COLUMN marts.match_design.matches IS 'Known matches with this level.';
COMMENT ON COLUMN marts.match_design.ended IS 'Matches with ended_on <= D.';
COMMENT ON COLUMN marts.match_design.closed_early IS 'Ended matches whose end_reason is not completed (blank included).';
COMMENT ON COLUMN marts.match_design.early_closure_rate IS 'F(365) over these matches: the estimated share closing early within a year (cumulative incidence, as in match_closures); NULL when none of them was followed 365 days.';
COMMENT ON COLUMN marts.match_design.early_closure_ci_low IS 'Lower bound of the log(-log) 95% interval of early_closure_rate, as in match_retention.';
COMMENT ON COLUMN marts.match_design.early_closure_ci_high IS 'Upper bound of the log(-log) 95% interval of early_closure_rate, as in match_retention.';
COMMENT ON COLUMN marts.match_design.logrank_p IS 'For the attribute within the program (same value on each of its rows): p-value of the log-rank test (statsmodels survdiff, not stratified) that the hazard of early closure is the same at every level, completed and active matches censored at t; NULL when fewer than two levels exist, no match closed early, or some level has no match at risk at any early closure.';
COMMENT ON COLUMN marts.match_design.logrank_p_holm IS 'logrank_p adjusted by Holm''s method over the program''s attributes that have a logrank_p; 0.05 or more: no detectable difference between the levels.';
COMMENT ON COLUMN marts.match_design.cadence_attainment_mean IS 'Mean of match_cadence.cadence_attainment over these matches, NULL values left out; NULL when all are NULL.';
COMMENT ON COLUMN marts.match_design.goals_decided IS 'Goals of these matches (goal_status) that are achieved, abandoned or overdue.';
COMMENT ON COLUMN marts.match_design.goal_attainment_rate IS 'Achieved goals / goals_decided; NULL when goals_decided = 0.';
COMMENT ON COLUMN marts.match_design.goal_attainment_ci_low IS 'Lower bound of the Wilson 95% interval (z = 1.96) of goal_attainment_rate on n = goals_decided; NULL when goals_decided = 0.';
COMMENT ON COLUMN marts.match_design.goal_attainment_ci_high IS 'Upper bound of the Wilson 95% interval (z = 1.96) of goal_attainment_rate on n = goals_decided; NULL when goals_decided = 0.';

CREATE OR REPLACE TABLE marts.survey_reliability (
    program VARCHAR,
    survey_id VARCHAR,
    role VARCHAR,
    n_complete BIGINT,
    n_respondents BIGINT,
    alpha DOUBLE,
    alpha_ci_low DOUBLE,
    alpha_ci_high DOUBLE
);

COMMENT ON TABLE marts.survey_reliability IS 'One row per (program, survey_id, role) with a kept response of a known match, role (all) included, no program rollup: Cronbach''s alpha of the six feedback items (guidance, networking, skills, feedback, communication, satisfaction) over the kept responses answering all six, whatever their instrument, with Feldt''s 95% interval; only from 10 complete responses.';
COMMENT ON COLUMN marts.survey_reliability.program IS 'Mentoring program.';
COMMENT ON COLUMN marts.survey_reliability.survey_id IS 'One wave of one instrument, e.g. closing-2026-06.';
COMMENT ON COLUMN marts.survey_reliability.role IS 'mentor, mentee, or (all) for both.';
COMMENT ON COLUMN marts.survey_reliability.n_complete IS 'Kept responses of the group that answer all six items.';
COMMENT ON COLUMN marts.survey_reliability.n_respondents IS 'Distinct respondents among the complete responses.';
COMMENT ON COLUMN marts.survey_reliability.alpha IS 'Cronbach''s alpha: (6/5) * (1 - sum of the six item sample variances / sample variance of their sum); NULL when n_complete < 10, the variance of the sum is 0, or n_respondents < k.';
COMMENT ON COLUMN marts.survey_reliability.alpha_ci_low IS 'Feldt''s 95% interval, lower bound: 1 - (1 - alpha) F^-1(0.975; n - 1, 5(n - 1)), n = n_complete, F^-1 the F distribution''s quantile (scipy f.ppf); NULL with alpha.';
COMMENT ON COLUMN marts.survey_reliability.alpha_ci_high IS 'Feldt''s 95% interval, upper bound: 1 - (1 - alpha) F^-1(0.025; n - 1, 5(n - 1)); NULL with alpha.';
