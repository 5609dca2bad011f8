-- Watch time and completion per film and day: played time from the heartbeats'
-- played_ms, playbacks by playback_id, completion_rate = completions / starts
-- (nan on a day without starts).
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `watch_time` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.watch_time_raw ${on_cluster} AS
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
GROUP BY day, video_id
