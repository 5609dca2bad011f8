-- Films watched to the end: completions and distinct viewers per video and day.
-- Days whose latest build is fresh (rollup_fresh) come from rollup_videos_completed; the
-- others (today, days with rows arrived since their build, erased days) are
-- computed live from events FINAL, from the first such day on so that partitions
-- before it are pruned (18.16 folds the scalar subquery before index analysis).
CREATE VIEW IF NOT EXISTS ${database}.videos_completed ${on_cluster} AS
SELECT day, video_id, completions, users, avg_duration_s
FROM ${database}.rollup_videos_completed
WHERE (day, build_id) IN (SELECT day, build_id FROM ${database}.rollup_fresh WHERE rollup_name = 'videos_completed')
UNION ALL
SELECT day, video_id, completions, users, avg_duration_s
FROM
(
    SELECT
        toDate(event_time) AS day,
        video_id,
        count() AS completions,
        uniqExactIf(user_id, user_id != '') AS users,
        avg(duration_s) AS avg_duration_s
    FROM ${database}.events FINAL
    WHERE event_type = 'video_complete'
        AND event_time >= (
            SELECT toDateTime(if(count() = 0, toDate('2105-12-31'), min(day)), 'UTC')
            FROM ${database}.rollup_arrived
            WHERE day NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'videos_completed')
        )
        AND toDate(event_time) NOT IN (SELECT day FROM ${database}.rollup_fresh WHERE rollup_name = 'videos_completed')
    GROUP BY day, video_id
)
