-- rollup_identity_links: day, anonymous_id, identified_as, linked_at
SELECT
    toDate(event_time) AS day,
    anonymous_id,
    argMax(user_id, concat(toString(event_time), user_id)) AS identified_as,
    max(event_time) AS linked_at
FROM ${database}.events FINAL
WHERE anonymous_id != '' AND user_id != ''${where}
GROUP BY day, anonymous_id
