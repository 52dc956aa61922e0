{#
Invitations seen by D of known matches, one per (survey, participant, match) - core keeps the
earliest; the QUALIFY restates that key so a duplicate can never count twice - each responded
when a kept response exists for the same survey, person and match, whatever its date or the
role it gives. Used by survey_response_rates, program_health and program_health_by_month, so
"responded" means one thing everywhere.
#}
{% macro answered_invitations() %}
SELECT
    i.survey_id,
    i.participant_key,
    i.match_id,
    i.role,
    i.sent_on,
    mc.program,
    mc.cohort,
    EXISTS (
        SELECT 1
        FROM {{ ref('survey_responses') }} AS r
        WHERE r.survey_id = i.survey_id
            AND r.respondent_key = i.participant_key
            AND r.match_id = i.match_id
    ) AS responded
FROM {{ ref('invitations') }} AS i
JOIN {{ ref('known_matches') }} AS mc USING (match_id)
QUALIFY row_number() OVER (
    PARTITION BY i.survey_id, i.participant_key, i.match_id ORDER BY i.sent_at, i.role
) = 1
{% endmacro %}
