-- Drop-off curve per film and day: of the playbacks with a known film length, the
-- share still watching at each 5% of the film (max position_s / duration_s of the
-- playback's start and heartbeats that day).
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `drop_off` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.drop_off_raw ${on_cluster} AS
SELECT
    day,
    video_id,
    pct,
    count() AS playbacks,
    countIf(reached_pct >= pct) AS watching,
    watching / playbacks AS share
FROM
(
    SELECT
        toDate(event_time) AS day,
        video_id,
        playback_id,
        max(position_s) / max(duration_s) * 100 AS reached_pct
    FROM ${database}.events FINAL
    WHERE event_type IN ('video_start', 'video_heartbeat') AND playback_id != ''
    GROUP BY day, video_id, playback_id
    HAVING max(duration_s) > 0
)
ARRAY JOIN arrayMap(step -> toUInt8(step * 5), range(21)) AS pct
GROUP BY day, video_id, pct
