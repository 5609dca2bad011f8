-- rollup_videos_completed: day, video_id, completions, users, avg_duration_s
SELECT
    toDate(event_time) AS day,
    video_id,
    count() AS completions,
    uniqExactIf(user_id, user_id != '') AS users,
    avg(duration_s) AS avg_duration_s
FROM ${database}.events FINAL
WHERE event_type = 'video_complete'${where}
GROUP BY day, video_id
