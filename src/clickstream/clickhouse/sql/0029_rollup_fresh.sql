-- The (rollup_name, day, build_id) triples a view may serve: the latest build of the
-- day, when no row arrived for that day since it started and no erasure touching
-- the day finished at or after its start. Every other day is computed live.
-- Nested joins: ClickHouse 18.16 joins two tables per SELECT.
CREATE VIEW IF NOT EXISTS ${database}.rollup_fresh ${on_cluster} AS
SELECT rollup_name, day, latest_build AS build_id
FROM
(
    SELECT rollup_name, day, latest_build, latest_rows_seen, latest_started_at, arrived_rows
    FROM
    (
        SELECT
            rollup_name,
            day,
            max(build_id) AS latest_build,
            argMax(rows_seen, build_id) AS latest_rows_seen,
            argMax(started_at, build_id) AS latest_started_at
        FROM ${database}.rollup_builds
        GROUP BY rollup_name, day
    ) AS builds
    ANY LEFT JOIN (SELECT day, arrived_rows FROM ${database}.rollup_arrived) AS arrived USING day
) AS built
ANY LEFT JOIN
(
    SELECT day, max(finished_at) AS erased_at
    FROM ${database}.erasures
    ARRAY JOIN days AS day
    GROUP BY day
) AS erased USING day
WHERE latest_rows_seen >= arrived_rows AND erased_at < latest_started_at
