-- Quality switches per hour watched, by device (the User-Agent's class when known,
-- else the event's device) and country, per day; upgrades and downgrades by
-- vertical resolution as in quality_changes (labels without one count in neither).
-- Days whose latest build is fresh (rollup_fresh) come from rollup_quality_per_hour; the
-- others are computed live from events FINAL, from the first such day on.
CREATE VIEW IF NOT EXISTS ${database}.quality_per_hour ${on_cluster} AS
SELECT day, device, country, hours_watched, switches, upgrades, downgrades, switches_per_hour
FROM ${database}.rollup_quality_per_hour
WHERE (day, build_id) IN (SELECT day, build_id FROM ${database}.rollup_fresh WHERE rollup_name = 'quality_per_hour')
UNION ALL
SELECT day, device, country, hours_watched, switches, upgrades, downgrades, switches_per_hour
FROM
(
    SELECT
        toDate(event_time) AS day,
        device_kind AS device,
        country,
        sumIf(played_ms, event_type = 'video_heartbeat') / 3600000 AS hours_watched,
        countIf(event_type = 'quality_change') AS switches,
        countIf(event_type = 'quality_change' AND from_rank > 0 AND to_rank > from_rank) AS upgrades,
        countIf(event_type = 'quality_change' AND to_rank > 0 AND to_rank < from_rank) AS downgrades,
        if(hours_watched = 0, nan, switches / hours_watched) AS switches_per_hour
    FROM
    (
        SELECT
            event_time, event_type, country, played_ms,
            if(device_class != '', device_class, device) AS device_kind,
            multiIf(lower(from_quality) = '4k', 2160, lower(from_quality) = '8k', 4320,
                    toUInt32OrZero(extract(from_quality, '(\\d+)'))) AS from_rank,
            multiIf(lower(to_quality) = '4k', 2160, lower(to_quality) = '8k', 4320,
                    toUInt32OrZero(extract(to_quality, '(\\d+)'))) AS to_rank
        FROM ${database}.events FINAL
        WHERE event_type IN ('quality_change', 'video_heartbeat')
            AND event_time >= (
                SELECT toDateTime(if(count() = 0, toDate('2105-12-31'), min(day)), 'UTC')
                FROM ${database}.rollup_arrived
                WHERE day NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'quality_per_hour')
            )
            AND toDate(event_time) NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'quality_per_hour')
    )
    GROUP BY day, device, country
)
