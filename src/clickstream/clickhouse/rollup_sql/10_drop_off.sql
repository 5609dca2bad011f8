-- rollup_drop_off: day, video_id, pct, playbacks, watching, share
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
    WHERE event_type IN ('video_start', 'video_heartbeat') AND playback_id != ''${where}
    GROUP BY day, video_id, playback_id
    HAVING max(duration_s) > 0
)
ARRAY JOIN arrayMap(step -> toUInt8(step * 5), range(21)) AS pct
GROUP BY day, video_id, pct
