-- The days an erasure touched, as soon as `clickstream erase` records it: a build
-- that started before erased_at no longer serves those days.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.rollup_ledger_erasures_mv ${on_cluster}
TO ${database}.rollup_ledger_local
AS SELECT
    day,
    '' AS rollup_name,
    toUInt64(0) AS build_id,
    toUInt64(0) AS rows_seen,
    toDateTime(0, 'UTC') AS started_at,
    finished_at AS erased_at,
    sumState(toUInt64(0)) AS arrived_rows,
    sumState(toUInt64(0)) AS events_hash
FROM ${database}.erasures
ARRAY JOIN days AS day
GROUP BY day, erased_at
