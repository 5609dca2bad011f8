-- Watch time and completion per film and day: played time from the heartbeats'
-- played_ms, playbacks by playback_id, completion_rate = completions / starts
-- (nan on a day without starts).
-- Days whose latest build is fresh (rollup_fresh) come from rollup_watch_time; the
-- others are computed live from events FINAL, from the first such day on.
CREATE VIEW IF NOT EXISTS ${database}.watch_time ${on_cluster} AS
SELECT day, video_id, starts, playbacks, viewers, watch_seconds, completions, completion_rate
FROM ${database}.rollup_watch_time
WHERE (day, build_id) IN (SELECT day, build_id FROM ${database}.rollup_fresh WHERE rollup_name = 'watch_time')
UNION ALL
SELECT day, video_id, starts, playbacks, viewers, watch_seconds, completions, completion_rate
FROM
(
    SELECT
        toDate(event_time) AS day,
        video_id,
        countIf(event_type = 'video_start') AS starts,
        uniqExactIf(playback_id, playback_id != '') AS playbacks,
        uniqExactIf(user_id, user_id != '') AS viewers,
        sumIf(played_ms, event_type = 'video_heartbeat') / 1000 AS watch_seconds,
        countIf(event_type = 'video_complete') AS completions,
        if(starts = 0, nan, completions / starts) AS completion_rate
    FROM ${database}.events FINAL
    WHERE event_type IN ('video_start', 'video_heartbeat', 'video_complete')
        AND event_time >= (
            SELECT toDateTime(if(count() = 0, toDate('2105-12-31'), min(day)), 'UTC')
            FROM ${database}.rollup_arrived
            WHERE day NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'watch_time')
        )
        AND toDate(event_time) NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'watch_time')
    GROUP BY day, video_id
)
