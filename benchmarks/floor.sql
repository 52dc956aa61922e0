-- The floor: match_cadence, goal_status and feedback_scores (METRICS.md) computed straight
-- from the raw landing files by one DuckDB script, as fast as we could make it. It is what the
-- pipeline is measured against (benchmarks/benchmark.py), so it does only what the numbers
-- need: no quarantine table, no reasons, no lineage, no pseudonyms, no checks, no publish.
-- Records the pipeline would quarantine are dropped by a plain WHERE (they must not count),
-- exact and conflicting duplicates collapse as in the pipeline (the first delivery wins).
--
-- Run it in an in-memory database with the landing directory as the working directory and:
--   SET TimeZone = '<program zone>';          -- local dates are taken in it
--   SET VARIABLE as_of = DATE '<D>';
--   SET VARIABLE min_group_size = 5; SET VARIABLE lapse_days = 60;
--   SET VARIABLE first_meeting_grace_days = 14; SET VARIABLE default_target_per_month = 2.0;
-- and a function t_quantile_975(df), the 0.975 quantile of Student's t (scipy t.ppf).
-- The marked repeat block near the end (complementary suppression, a few thousand rows) is
-- run again until a pass changes nothing, as the pipeline's sql_runner does.
-- Differences from the pipeline, none of which changes a figure on the generated data:
-- mentor_key/mentee_key hold the raw participant ids (no HMAC), meetings are read from
-- *.jsonl only (the generator writes no meetings CSV), and a conflicting response duplicate
-- is not looked for (the generator writes none).

-- Meetings: one hash aggregate folds every meeting (no sort): the last event by
-- (occurred_at, event_id) decides status and match, the last event with a start decides
-- the date. Exact and conflicting duplicates only differ in duration: the fold is the same.
CREATE TABLE meetings AS
WITH raw AS (
    SELECT
        meeting_id, match_id, event_type, event_id,
        TRY_CAST(occurred_at AS TIMESTAMPTZ) AS occurred_at,
        scheduled_start AS start_text,
        TRY_CAST(scheduled_start AS TIMESTAMPTZ) AS scheduled_start,
        duration_minutes, TRY_CAST(duration_minutes AS DOUBLE) AS duration,
        channel, initiated_by
    FROM read_json(
        'meetings/*.jsonl', format = 'newline_delimited', ignore_errors = true,
        columns = {
            event_id: 'VARCHAR', meeting_id: 'VARCHAR', match_id: 'VARCHAR',
            event_type: 'VARCHAR', occurred_at: 'VARCHAR', scheduled_start: 'VARCHAR',
            duration_minutes: 'VARCHAR', channel: 'VARCHAR', initiated_by: 'VARCHAR'
        }
    )
),
valid AS (
    SELECT meeting_id, match_id, event_type, event_id, occurred_at, scheduled_start
    FROM raw
    WHERE event_id IS NOT NULL AND meeting_id IS NOT NULL AND match_id IS NOT NULL
        AND event_type IN ('scheduled', 'rescheduled', 'completed', 'cancelled', 'no_show')
        AND CAST(occurred_at AS DATE) <= getvariable('as_of')
        AND (start_text IS NULL OR scheduled_start IS NOT NULL)
        AND (scheduled_start IS NOT NULL OR event_type IN ('cancelled', 'no_show'))
        AND (duration_minutes IS NULL OR (duration = floor(duration) AND duration BETWEEN 1 AND 480))
        AND (duration_minutes IS NOT NULL OR event_type <> 'completed')
        AND (channel IS NULL OR channel IN ('video', 'in_person', 'phone', 'chat'))
        AND (initiated_by IS NULL OR initiated_by IN ('mentor', 'mentee'))
)
SELECT
    meeting_id,
    arg_max(match_id, (occurred_at, event_id)) AS match_id,
    arg_max(event_type, (occurred_at, event_id)) AS status,
    CAST(arg_max(scheduled_start, (occurred_at, event_id))
         FILTER (WHERE scheduled_start IS NOT NULL) AS DATE) AS meeting_date
FROM valid
GROUP BY meeting_id;

-- Roster: the latest row per match_id by file name (the generator writes one row per match
-- per file; a later file records the ending).
CREATE TABLE known_matches AS
WITH run AS (
    SELECT getvariable('as_of') AS as_of,
           getvariable('default_target_per_month')::DOUBLE AS default_target
),
roster AS (
    SELECT match_id, program, cohort, mentor_id, mentee_id,
           TRY_CAST(matched_on AS DATE) AS matched_on,
           TRY_CAST(ended_on AS DATE) AS ended_on,
           TRY_CAST(target_meetings_per_month AS DOUBLE) AS target
    FROM read_csv(
        'roster/matches*.csv', header = true, delim = ',', quote = '"', escape = '"',
        auto_detect = false, ignore_errors = true, filename = true,
        columns = {
            match_id: 'VARCHAR', program: 'VARCHAR', cohort: 'VARCHAR', mentor_id: 'VARCHAR',
            mentee_id: 'VARCHAR', matched_on: 'VARCHAR', ended_on: 'VARCHAR',
            end_reason: 'VARCHAR', target_meetings_per_month: 'VARCHAR'
        }
    )
    WHERE match_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY match_id ORDER BY filename DESC) = 1
)
SELECT
    match_id, program, cohort, mentor_id AS mentor_key, mentee_id AS mentee_key, matched_on,
    CASE WHEN ended_on <= run.as_of THEN ended_on END AS ended_on,
    CASE WHEN ended_on <= run.as_of THEN ended_on ELSE run.as_of END AS window_end,
    coalesce(target, run.default_target) AS target_per_month
FROM roster CROSS JOIN run
WHERE matched_on <= run.as_of;

-- match_cadence: one aggregate over the meetings in each window; the held dates go into a
-- sorted list whose consecutive differences are the gaps (no window function).
CREATE TABLE match_cadence AS
WITH counts AS (
    SELECT
        k.match_id,
        count(*) FILTER (WHERE m.status = 'completed') AS held,
        count(*) FILTER (WHERE m.status = 'cancelled') AS cancelled,
        count(*) FILTER (WHERE m.status = 'no_show') AS no_show,
        list(m.meeting_date ORDER BY m.meeting_date) FILTER (WHERE m.status = 'completed')
            AS held_dates
    FROM known_matches AS k
    JOIN meetings AS m
        ON m.match_id = k.match_id AND m.meeting_date BETWEEN k.matched_on AND k.window_end
    GROUP BY k.match_id
),
gaps AS (
    SELECT *,
        list_transform(range(1, len(held_dates)), lambda i: held_dates[i + 1] - held_dates[i])
            AS gap_list
    FROM counts
),
figures AS (
    SELECT
        k.*,
        k.window_end - k.matched_on AS active_days,
        coalesce(g.held, 0) AS meetings_held,
        coalesce(g.cancelled, 0) AS meetings_cancelled,
        coalesce(g.no_show, 0) AS meetings_no_show,
        g.held_dates[1] AS first_meeting_on,
        g.held_dates[-1] AS last_meeting_on,
        len(g.gap_list) AS gap_count,
        list_median(g.gap_list) AS median_gap_days,
        list_avg(g.gap_list) AS mean_gap,
        list_stddev_pop(g.gap_list) AS sd_gap
    FROM known_matches AS k
    LEFT JOIN gaps AS g USING (match_id)
),
rates AS (
    SELECT *,
        CASE WHEN active_days >= 14 THEN meetings_held / (active_days / 30.4375) END
            AS meetings_per_month,
        window_end - last_meeting_on AS days_since_last_meeting
    FROM figures
)
SELECT
    match_id, program, cohort, mentor_key, mentee_key, matched_on, ended_on,
    ended_on IS NULL AS is_active,
    active_days,
    target_per_month,
    meetings_held, meetings_cancelled, meetings_no_show,
    meetings_per_month::DOUBLE AS meetings_per_month,
    CASE WHEN meetings_per_month IS NOT NULL
         THEN least(meetings_per_month / target_per_month, 1.0) END::DOUBLE AS cadence_attainment,
    first_meeting_on,
    first_meeting_on - matched_on AS days_to_first_meeting,
    last_meeting_on,
    days_since_last_meeting,
    CASE WHEN gap_count >= 1 THEN median_gap_days END::DOUBLE AS median_gap_days,
    CASE WHEN gap_count >= 2 AND mean_gap <> 0 THEN sd_gap / mean_gap END::DOUBLE AS gap_cv,
    (meetings_cancelled / nullif(meetings_held + meetings_cancelled + meetings_no_show, 0))::DOUBLE
        AS cancellation_rate,
    (meetings_no_show / nullif(meetings_held + meetings_no_show, 0))::DOUBLE AS no_show_rate,
    CASE
        WHEN ended_on IS NOT NULL THEN 'ended'
        WHEN meetings_held = 0 AND active_days < getvariable('first_meeting_grace_days') THEN 'too_early'
        WHEN meetings_held = 0 THEN 'not_started'
        WHEN days_since_last_meeting > getvariable('lapse_days') THEN 'lapsed'
        WHEN days_since_last_meeting::DOUBLE > 2 * 30.4375 / target_per_month THEN 'at_risk'
        ELSE 'on_track'
    END AS status
FROM rates;

-- goal_status: first delivery of each event_id wins (a re-sent or edited event comes in a
-- later file), then one hash aggregate folds every goal.
CREATE TABLE goal_status AS
WITH raw AS (
    SELECT
        filename, event_id, goal_id, match_id, event_type,
        TRY_CAST(occurred_at AS TIMESTAMPTZ) AS occurred_at,
        title, horizon, category,
        target_date AS target_text, TRY_CAST(target_date AS DATE) AS target_date,
        measure,
        progress_pct AS progress_text, TRY_CAST(progress_pct AS DOUBLE) AS progress_pct
    FROM read_json(
        'goals/*.jsonl', format = 'newline_delimited', ignore_errors = true, filename = true,
        columns = {
            event_id: 'VARCHAR', goal_id: 'VARCHAR', match_id: 'VARCHAR', event_type: 'VARCHAR',
            occurred_at: 'VARCHAR', title: 'VARCHAR', horizon: 'VARCHAR', category: 'VARCHAR',
            target_date: 'VARCHAR', measure: 'VARCHAR', progress_pct: 'VARCHAR'
        }
    )
),
valid AS (
    SELECT * EXCLUDE (filename, target_text, progress_text)
    FROM raw
    WHERE event_id IS NOT NULL AND goal_id IS NOT NULL AND match_id IS NOT NULL
        AND occurred_at IS NOT NULL
        AND event_type IN ('set', 'progress', 'achieved', 'abandoned')
        AND (horizon IS NULL OR horizon IN ('short_term', 'long_term'))
        AND (category IS NULL OR category IN ('skill', 'network', 'career', 'wellbeing', 'other'))
        AND (target_text IS NULL OR target_date IS NOT NULL)
        AND (progress_text IS NULL OR progress_pct BETWEEN 0 AND 100)
        AND (event_type <> 'set' OR (title IS NOT NULL AND horizon IS NOT NULL))
        AND (event_type <> 'progress' OR progress_pct IS NOT NULL)
    QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY filename) = 1
),
folded AS (
    SELECT
        goal_id,
        arg_min(match_id, (occurred_at, event_id)) AS match_id,
        arg_max(event_type, (occurred_at, event_id)) AS last_type,
        arg_max({'title': title, 'horizon': horizon, 'category': category,
                 'target_date': target_date, 'measure': measure}, (occurred_at, event_id))
            FILTER (WHERE event_type = 'set') AS last_set,
        CAST(min(occurred_at) FILTER (WHERE event_type = 'set') AS DATE) AS set_on,
        arg_max(progress_pct, (occurred_at, event_id)) FILTER (WHERE event_type = 'progress')
            AS last_progress,
        CAST(max(occurred_at) FILTER (WHERE event_type = 'achieved') AS DATE) AS last_achieved_on
    FROM valid
    WHERE CAST(occurred_at AS DATE) <= getvariable('as_of')
    GROUP BY goal_id
    HAVING count(*) FILTER (WHERE event_type = 'set') > 0
)
SELECT
    f.goal_id, f.match_id, k.program, k.cohort,
    f.last_set.horizon AS horizon,
    coalesce(f.last_set.category, 'other') AS category,
    f.last_set.target_date AS target_date,
    coalesce(regexp_matches(f.last_set.measure, '[^[:space:]]'), false) AS has_measure,
    f.set_on,
    CASE f.last_type WHEN 'achieved' THEN 'achieved' WHEN 'abandoned' THEN 'abandoned'
         ELSE 'open' END AS status,
    CASE WHEN f.last_type = 'achieved' THEN 100.0 ELSE coalesce(f.last_progress, 0.0) END::DOUBLE
        AS progress_pct,
    CASE WHEN f.last_type = 'achieved' THEN f.last_achieved_on END AS achieved_on,
    CASE WHEN f.last_type = 'achieved' THEN f.last_achieved_on - f.set_on END AS days_to_achieve,
    coalesce(f.last_type NOT IN ('achieved', 'abandoned')
             AND f.last_set.target_date < getvariable('as_of'), false) AS is_overdue,
    has_measure AND f.last_set.target_date IS NOT NULL AS is_smart
FROM folded AS f
JOIN known_matches AS k USING (match_id);

-- feedback_scores: the latest response per (survey, respondent, match) of known matches.
-- The figures of the six items come from one GROUPING SETS pass over the kept responses
-- (not over one row per answer), and n_respondents from a second pass whose groups include
-- the respondent, so no count(DISTINCT) is needed; the item columns are unpivoted at the end.
CREATE TABLE feedback_scores AS
WITH raw AS (
    SELECT
        response_id, survey_id, instrument, respondent_id, match_id, role,
        TRY_CAST(submitted_at AS TIMESTAMPTZ) AS submitted_at,
        guidance, networking, skills, feedback, communication, satisfaction, nps,
        TRY_CAST(guidance AS DOUBLE) AS g, TRY_CAST(networking AS DOUBLE) AS w,
        TRY_CAST(skills AS DOUBLE) AS s, TRY_CAST(feedback AS DOUBLE) AS f,
        TRY_CAST(communication AS DOUBLE) AS c, TRY_CAST(satisfaction AS DOUBLE) AS t,
        TRY_CAST(nps AS DOUBLE) AS p
    FROM read_csv(
        'surveys/responses*.csv', header = true, delim = ',', quote = '"', escape = '"',
        auto_detect = false, ignore_errors = true,
        columns = {
            response_id: 'VARCHAR', survey_id: 'VARCHAR', instrument: 'VARCHAR',
            respondent_id: 'VARCHAR', match_id: 'VARCHAR', role: 'VARCHAR',
            submitted_at: 'VARCHAR', guidance: 'VARCHAR', networking: 'VARCHAR',
            skills: 'VARCHAR', feedback: 'VARCHAR', communication: 'VARCHAR',
            satisfaction: 'VARCHAR', nps: 'VARCHAR', comment: 'VARCHAR'
        }
    )
),
kept AS MATERIALIZED (
    SELECT r.survey_id, r.respondent_id, r.role, k.program, k.cohort,
           r.g::INTEGER AS guidance, r.w::INTEGER AS networking, r.s::INTEGER AS skills,
           r.f::INTEGER AS feedback, r.c::INTEGER AS communication,
           r.t::INTEGER AS satisfaction
    FROM raw AS r
    JOIN known_matches AS k USING (match_id)
    WHERE r.response_id IS NOT NULL AND r.survey_id IS NOT NULL AND r.respondent_id IS NOT NULL
        AND r.instrument IN ('intake', 'checkin', 'closing')
        AND r.role IN ('mentor', 'mentee')
        AND CAST(r.submitted_at AS DATE) <= getvariable('as_of')
        AND (r.guidance IS NULL OR (r.g BETWEEN 1 AND 5 AND r.g = floor(r.g)))
        AND (r.networking IS NULL OR (r.w BETWEEN 1 AND 5 AND r.w = floor(r.w)))
        AND (r.skills IS NULL OR (r.s BETWEEN 1 AND 5 AND r.s = floor(r.s)))
        AND (r.feedback IS NULL OR (r.f BETWEEN 1 AND 5 AND r.f = floor(r.f)))
        AND (r.communication IS NULL OR (r.c BETWEEN 1 AND 5 AND r.c = floor(r.c)))
        AND (r.satisfaction IS NULL OR (r.t BETWEEN 1 AND 5 AND r.t = floor(r.t)))
        AND (r.nps IS NULL OR (r.p BETWEEN 0 AND 10 AND r.p = floor(r.p)))
    QUALIFY row_number() OVER (
        PARTITION BY r.survey_id, r.respondent_id, r.match_id
        ORDER BY r.submitted_at DESC, r.response_id DESC
    ) = 1
),
stats AS (
    SELECT
        program,
        CASE WHEN grouping(cohort) = 1 THEN '(all)' ELSE cohort END AS cohort,
        survey_id,
        CASE WHEN grouping(role) = 1 THEN '(all)' ELSE role END AS role,
        count(guidance) AS guidance_n, avg(guidance) AS guidance_mean,
        count_if(guidance >= 4) AS guidance_top2,
        count(networking) AS networking_n, avg(networking) AS networking_mean,
        count_if(networking >= 4) AS networking_top2,
        count(skills) AS skills_n, avg(skills) AS skills_mean,
        count_if(skills >= 4) AS skills_top2,
        count(feedback) AS feedback_n, avg(feedback) AS feedback_mean,
        count_if(feedback >= 4) AS feedback_top2,
        count(communication) AS communication_n, avg(communication) AS communication_mean,
        count_if(communication >= 4) AS communication_top2,
        count(satisfaction) AS satisfaction_n, avg(satisfaction) AS satisfaction_mean,
        count_if(satisfaction >= 4) AS satisfaction_top2
    FROM kept
    GROUP BY GROUPING SETS (
        (program, cohort, survey_id, role),
        (program, survey_id, role),
        (program, cohort, survey_id),
        (program, survey_id)
    )
),
people AS (
    -- One row per respondent of each group: the items they answered, how many answers and
    -- their sum (for the interval clustered by respondent).
    SELECT
        program,
        CASE WHEN grouping(cohort) = 1 THEN '(all)' ELSE cohort END AS cohort,
        survey_id,
        CASE WHEN grouping(role) = 1 THEN '(all)' ELSE role END AS role,
        count(guidance) AS guidance_cnt, sum(guidance) AS guidance_sum,
        count(networking) AS networking_cnt, sum(networking) AS networking_sum,
        count(skills) AS skills_cnt, sum(skills) AS skills_sum,
        count(feedback) AS feedback_cnt, sum(feedback) AS feedback_sum,
        count(communication) AS communication_cnt, sum(communication) AS communication_sum,
        count(satisfaction) AS satisfaction_cnt, sum(satisfaction) AS satisfaction_sum
    FROM kept
    GROUP BY GROUPING SETS (
        (program, cohort, survey_id, role, respondent_id),
        (program, survey_id, role, respondent_id),
        (program, cohort, survey_id, respondent_id),
        (program, survey_id, respondent_id)
    )
),
respondents AS (
    -- G (respondents with an answer) and the sum over them of u_g^2, u_g = S_g - n_g * mean.
    SELECT
        p.program, p.cohort, p.survey_id, p.role,
        count_if(p.guidance_cnt > 0) AS guidance_r,
        sum((p.guidance_sum - p.guidance_cnt * s.guidance_mean) ** 2) FILTER (WHERE p.guidance_cnt > 0) AS guidance_u2,
        count_if(p.networking_cnt > 0) AS networking_r,
        sum((p.networking_sum - p.networking_cnt * s.networking_mean) ** 2) FILTER (WHERE p.networking_cnt > 0) AS networking_u2,
        count_if(p.skills_cnt > 0) AS skills_r,
        sum((p.skills_sum - p.skills_cnt * s.skills_mean) ** 2) FILTER (WHERE p.skills_cnt > 0) AS skills_u2,
        count_if(p.feedback_cnt > 0) AS feedback_r,
        sum((p.feedback_sum - p.feedback_cnt * s.feedback_mean) ** 2) FILTER (WHERE p.feedback_cnt > 0) AS feedback_u2,
        count_if(p.communication_cnt > 0) AS communication_r,
        sum((p.communication_sum - p.communication_cnt * s.communication_mean) ** 2) FILTER (WHERE p.communication_cnt > 0) AS communication_u2,
        count_if(p.satisfaction_cnt > 0) AS satisfaction_r,
        sum((p.satisfaction_sum - p.satisfaction_cnt * s.satisfaction_mean) ** 2) FILTER (WHERE p.satisfaction_cnt > 0) AS satisfaction_u2
    FROM people AS p
    JOIN stats AS s USING (program, cohort, survey_id, role)
    GROUP BY p.program, p.cohort, p.survey_id, p.role
),
joined AS (
    SELECT * FROM stats JOIN respondents USING (program, cohort, survey_id, role)
),
items AS (
    -- INCLUDE NULLS: a group with one answer has no sd, and must stay.
    FROM joined UNPIVOT INCLUDE NULLS (
        (n, n_respondents, mean, u2, top2) FOR item IN (
            (guidance_n, guidance_r, guidance_mean, guidance_u2, guidance_top2) AS 'guidance',
            (networking_n, networking_r, networking_mean, networking_u2, networking_top2) AS 'networking',
            (skills_n, skills_r, skills_mean, skills_u2, skills_top2) AS 'skills',
            (feedback_n, feedback_r, feedback_mean, feedback_u2, feedback_top2) AS 'feedback',
            (communication_n, communication_r, communication_mean, communication_u2, communication_top2) AS 'communication',
            (satisfaction_n, satisfaction_r, satisfaction_mean, satisfaction_u2, satisfaction_top2) AS 'satisfaction'
        )
    )
)
SELECT
    program, cohort, survey_id, role, item, n, n_respondents,
    mean::DOUBLE AS mean,
    -- t with G - 1 degrees of freedom, se clustered by respondent (METRICS.md, shared rules)
    CASE WHEN n_respondents >= 2 THEN mean - t_quantile_975(n_respondents - 1)
        * sqrt(n_respondents / (n_respondents - 1) * u2) / n END::DOUBLE AS ci_low,
    CASE WHEN n_respondents >= 2 THEN mean + t_quantile_975(n_respondents - 1)
        * sqrt(n_respondents / (n_respondents - 1) * u2) / n END::DOUBLE AS ci_high,
    (top2 / n)::DOUBLE AS top2_share,
    n_respondents < getvariable('min_group_size') AS suppressed
FROM items
WHERE n > 0;

-- @repeat-until-stable
-- (1) Role siblings: one of mentor/mentee suppressed suppresses the other.
UPDATE feedback_scores AS f
SET suppressed = true
FROM (
    SELECT program, cohort, survey_id, item
    FROM feedback_scores
    WHERE suppressed AND role IN ('mentor', 'mentee')
    GROUP BY ALL
) AS s
WHERE NOT f.suppressed AND f.role IN ('mentor', 'mentee')
    AND s.program = f.program AND s.cohort = f.cohort AND s.survey_id = f.survey_id
    AND s.item = f.item;
-- (2) Cohort siblings: exactly one real cohort suppressed, or several with fewer than k
-- respondents together, suppresses the smallest other one.
UPDATE feedback_scores AS f
SET suppressed = true
FROM (
    SELECT program, survey_id, role, item, cohort, suppressed,
        count(*) FILTER (WHERE suppressed) OVER (PARTITION BY program, survey_id, role, item)
            AS suppressed_siblings,
        sum(n_respondents) FILTER (WHERE suppressed)
            OVER (PARTITION BY program, survey_id, role, item) AS suppressed_respondents,
        row_number() OVER (PARTITION BY program, survey_id, role, item, suppressed
                           ORDER BY n_respondents, cohort) AS smallest_first
    FROM feedback_scores
    WHERE cohort <> '(all)'
) AS c
WHERE c.program = f.program AND c.survey_id = f.survey_id AND c.role = f.role
    AND c.item = f.item AND c.cohort = f.cohort
    AND NOT c.suppressed AND c.smallest_first = 1
    AND (c.suppressed_siblings = 1
         OR c.suppressed_siblings > 1 AND c.suppressed_respondents < getvariable('min_group_size'));
-- @end-repeat

UPDATE feedback_scores
SET mean = NULL, ci_low = NULL, ci_high = NULL, top2_share = NULL
WHERE suppressed;
