-- An erasure changes every hour of the days it touched, as of when it finished.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.rollup_changes_erasures_mv ${on_cluster}
TO ${database}.rollup_changes
AS SELECT
    finished_at AS changed_at,
    toDateTime(day, 'UTC') AS first_hour,
    toDateTime(day, 'UTC') + 82800 AS last_hour,
    '' AS pass_of
FROM ${database}.erasures
ARRAY JOIN days AS day
