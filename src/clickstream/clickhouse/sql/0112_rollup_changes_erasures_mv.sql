-- An erasure changes every hour of the days it touched. As of when its record is
-- written (after its mutations finished on every node), not its finished_at: a pass
-- that started between the two does not see the record, and the next pass, reading
-- changes from that one's start on, would skip a row dated before it.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.rollup_changes_erasures_mv ${on_cluster}
TO ${database}.rollup_changes
AS SELECT
    now() AS changed_at,
    toDateTime(day, 'UTC') AS first_hour,
    toDateTime(day, 'UTC') + 82800 AS last_hour,
    '' AS pass_of
FROM ${database}.erasures
ARRAY JOIN days AS day
