-- Per day, each anonymous_id seen together with a user_id: the user of its latest
-- such event that day (ties broken by user_id), and when.
-- Days whose latest build is fresh (rollup_fresh) come from rollup_identity_links; the
-- others are computed live from events FINAL, from the first such day on.
CREATE VIEW IF NOT EXISTS ${database}.identity_links ${on_cluster} AS
SELECT day, anonymous_id, identified_as, linked_at
FROM ${database}.rollup_identity_links
WHERE (day, build_id) IN (SELECT day, build_id FROM ${database}.rollup_fresh WHERE rollup_name = 'identity_links')
UNION ALL
SELECT day, anonymous_id, identified_as, linked_at
FROM
(
    SELECT
        toDate(event_time) AS day,
        anonymous_id,
        argMax(user_id, concat(toString(event_time), user_id)) AS identified_as,
        max(event_time) AS linked_at
    FROM ${database}.events FINAL
    WHERE anonymous_id != '' AND user_id != ''
        AND event_time >= (
            SELECT toDateTime(if(count() = 0, toDate('2105-12-31'), min(day)), 'UTC')
            FROM ${database}.rollup_arrived
            WHERE day NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'identity_links')
        )
        AND toDate(event_time) NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'identity_links')
    GROUP BY day, anonymous_id
)
