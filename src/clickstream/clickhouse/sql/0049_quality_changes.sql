-- Video quality switches (from -> to) by device and country, per day, with the
-- direction: up or down by vertical resolution ("720p" -> 720, "4k" -> 2160);
-- "unknown" when a label carries no resolution (e.g. "auto").
-- Days whose latest build is fresh (rollup_fresh) come from rollup_quality_changes; the
-- others (today, days with rows arrived since their build, erased days) are
-- computed live from events FINAL, from the first such day on so that partitions
-- before it are pruned (18.16 folds the scalar subquery before index analysis).
CREATE VIEW IF NOT EXISTS ${database}.quality_changes ${on_cluster} AS
SELECT day, from_quality, to_quality, device, country, direction, changes, users
FROM ${database}.rollup_quality_changes
WHERE (day, build_id) IN (SELECT day, build_id FROM ${database}.rollup_fresh WHERE rollup_name = 'quality_changes')
UNION ALL
SELECT day, from_quality, to_quality, device, country, direction, changes, users
FROM
(
    SELECT
        toDate(event_time) AS day,
        from_quality,
        to_quality,
        device,
        country,
        multiIf(from_rank = 0 OR to_rank = 0, 'unknown',
                to_rank > from_rank, 'up',
                to_rank < from_rank, 'down', 'same') AS direction,
        count() AS changes,
        uniqExactIf(user_id, user_id != '') AS users
    FROM
    (
        SELECT
            event_time, from_quality, to_quality, device, country, user_id,
            multiIf(lower(from_quality) = '4k', 2160, lower(from_quality) = '8k', 4320,
                    toUInt32OrZero(extract(from_quality, '(\\d+)'))) AS from_rank,
            multiIf(lower(to_quality) = '4k', 2160, lower(to_quality) = '8k', 4320,
                    toUInt32OrZero(extract(to_quality, '(\\d+)'))) AS to_rank
        FROM ${database}.events FINAL
        WHERE event_type = 'quality_change'
            AND event_time >= (
                SELECT toDateTime(if(count() = 0, toDate('2105-12-31'), min(day)), 'UTC')
                FROM ${database}.rollup_arrived
                WHERE day NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'quality_changes')
            )
            AND toDate(event_time) NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'quality_changes')
    )
    GROUP BY day, from_quality, to_quality, device, country, direction
)
