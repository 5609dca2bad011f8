-- Rows stored per event day. Fed from the storage table, not from events_ingest: a
-- block is pushed to this view only after it was written to events_local, so a build
-- that reads the count first and events FINAL second never counts rows it could not see.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.rollup_ledger_arrivals_mv ${on_cluster}
TO ${database}.rollup_ledger_local
AS SELECT
    toDate(event_time) AS day,
    '' AS rollup_name,
    toUInt64(0) AS build_id,
    toUInt64(0) AS rows_seen,
    toDateTime(0, 'UTC') AS started_at,
    toDateTime(0, 'UTC') AS erased_at,
    sumState(toUInt64(1)) AS arrived_rows,
    sumState(cityHash64(toString(event_id))) AS events_hash
FROM ${database}.events_local
GROUP BY day
