-- Drop-off curve per film and day: of the playbacks with a known film length, the
-- share still watching at each 5% of the film (max position_s / duration_s of the
-- playback's start and heartbeats that day).
-- Days whose latest build is fresh (rollup_fresh) come from rollup_drop_off; the
-- others are computed live from events FINAL, from the first such day on.
CREATE VIEW IF NOT EXISTS ${database}.drop_off ${on_cluster} AS
SELECT day, video_id, pct, playbacks, watching, share
FROM ${database}.rollup_drop_off
WHERE (day, build_id) IN (SELECT day, build_id FROM ${database}.rollup_fresh WHERE rollup_name = 'drop_off')
UNION ALL
SELECT day, video_id, pct, playbacks, watching, share
FROM
(
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
            AND event_time >= (
                SELECT toDateTime(if(count() = 0, toDate('2105-12-31'), min(day)), 'UTC')
                FROM ${database}.rollup_arrived
                WHERE day NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'drop_off')
            )
            AND toDate(event_time) NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'drop_off')
        GROUP BY day, video_id, playback_id
        HAVING max(duration_s) > 0
    )
    ARRAY JOIN arrayMap(step -> toUInt8(step * 5), range(21)) AS pct
    GROUP BY day, video_id, pct
)
