-- rollup_quality_per_hour: day, device, country, hours_watched, switches, upgrades, downgrades, switches_per_hour
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
    WHERE event_type IN ('quality_change', 'video_heartbeat')${where}
)
GROUP BY day, device, country
