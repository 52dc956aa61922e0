-- Follow-ups of program managers with pairs (landing/followups/), seen by D: who was
-- contacted, when, how and with what result. Who made contact and the note stay in staging
-- (restricted); the restricted queue joins them in from there.
SELECT
    f.followup_id,
    f.match_id,
    f.contacted_on,
    f.channel,
    f.outcome
FROM {{ source('staging', 'followups') }} AS f
WHERE f.contacted_on <= getvariable('as_of')
