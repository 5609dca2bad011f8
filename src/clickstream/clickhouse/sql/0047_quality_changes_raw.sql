-- Video quality switches (from -> to) by device and country, per day, with the
-- direction: up or down by vertical resolution ("720p" -> 720, "4k" -> 2160);
-- "unknown" when a label carries no resolution (e.g. "auto").
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `quality_changes` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.quality_changes_raw ${on_cluster} AS
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
)
GROUP BY day, from_quality, to_quality, device, country, direction
