-- Films watched to the end: completions and distinct viewers per video and day.
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `videos_completed` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.videos_completed_raw ${on_cluster} AS
SELECT
    toDate(event_time) AS day,
    video_id,
    count() AS completions,
    uniqExactIf(user_id, user_id != '') AS users,
    avg(duration_s) AS avg_duration_s
FROM ${database}.events FINAL
WHERE event_type = 'video_complete'
GROUP BY day, video_id
