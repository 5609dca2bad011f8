-- Per rollup, the first day its view computes live: the oldest day whose latest build
-- is not fresh (rows arrived for the day since the build started, an erasure touching
-- it finished at or after, or no build at all), else today. The analyst views serve
-- the days before it from their rollup and compute it and every later day from
-- events FINAL: one scalar a query, where rollup_fresh, with its joins, was read three
-- times. The same rules as rollup_fresh (what the job rebuilds), written as one
-- GROUP BY over the three sources: builds, arrivals and erasures per day. The
-- questions are named here as they stood: a new question needs a migration that
-- re-creates this view with its name too (a unit test holds the latest to ROLLUPS).
CREATE VIEW IF NOT EXISTS ${database}.rollup_live_from ${on_cluster} AS
SELECT
    rollup_name,
    if(countIf(stale) = 0, today(), least(today(), minIf(day, stale))) AS live_from
FROM
(
    SELECT
        rollup_name,
        day,
        max(arrived_rows) AS arrived,
        max(build_id) AS latest_build,
        argMax(rows_seen, build_id) AS latest_rows_seen,
        argMax(started_at, build_id) AS latest_started_at,
        max(erased_at) AS last_erased_at,
        arrived > 0
            AND NOT (latest_build > 0 AND latest_rows_seen >= arrived
                     AND last_erased_at < latest_started_at) AS stale
    FROM
    (
        SELECT rollup_name, day, build_id, rows_seen, started_at,
               toUInt64(0) AS arrived_rows, toDateTime(0, 'UTC') AS erased_at
        FROM ${database}.rollup_builds
        UNION ALL
        SELECT rollup_name, day, toUInt64(0), toUInt64(0), toDateTime(0, 'UTC'),
               arrived_rows, toDateTime(0, 'UTC')
        FROM ${database}.rollup_arrived
        ARRAY JOIN
            ['clicks_by_element', 'page_views', 'time_on_page', 'search_filters',
             'quality_changes', 'videos_completed', 'engaged_time_on_page', 'sessions',
             'watch_time', 'drop_off', 'quality_per_hour', 'identity_links',
             'anonymous_activity']
            AS rollup_name
        UNION ALL
        SELECT rollup_name, day, toUInt64(0), toUInt64(0), toDateTime(0, 'UTC'),
               toUInt64(0), finished_at
        FROM (SELECT day, finished_at FROM ${database}.erasures ARRAY JOIN days AS day)
        ARRAY JOIN
            ['clicks_by_element', 'page_views', 'time_on_page', 'search_filters',
             'quality_changes', 'videos_completed', 'engaged_time_on_page', 'sessions',
             'watch_time', 'drop_off', 'quality_per_hour', 'identity_links',
             'anonymous_activity']
            AS rollup_name
    )
    GROUP BY rollup_name, day
)
GROUP BY rollup_name
