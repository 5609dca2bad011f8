-- rollup_watch_time: day, video_id, starts, playbacks, viewers, watch_seconds, completions, completion_rate
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
WHERE event_type IN ('video_start', 'video_heartbeat', 'video_complete')${where}
GROUP BY day, video_id
