-- Films watched to the end: completions and distinct viewers per video and day.
CREATE VIEW IF NOT EXISTS ${database}.videos_completed ${on_cluster} AS
SELECT
    toDate(event_time) AS day,
    video_id,
    count() AS completions,
    uniqExactIf(user_id, user_id != '') AS users,
    avg(duration_s) AS avg_duration_s
FROM ${database}.events FINAL
WHERE event_type = 'video_complete'
GROUP BY day, video_id
