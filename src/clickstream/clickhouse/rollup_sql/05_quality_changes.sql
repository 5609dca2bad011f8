-- rollup_quality_changes: day, from_quality, to_quality, device, country, direction, changes, users
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
    WHERE event_type = 'quality_change'${where}
)
GROUP BY day, from_quality, to_quality, device, country, direction
