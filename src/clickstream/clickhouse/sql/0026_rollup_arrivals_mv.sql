-- Fed from the storage table, not from events_ingest: a block is pushed to this
-- view only after it was written to events_local, so a build that reads the count
-- first and events FINAL second never counts rows it could not see. It also reuses
-- the envelope parsing (event_time) of the ingest view instead of repeating it.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.rollup_arrivals_mv ${on_cluster}
TO ${database}.rollup_arrivals_local
AS SELECT
    toDate(event_time) AS day,
    countState() AS rows_state,
    sumState(cityHash64(toString(event_id))) AS events_hash,
    maxState(received_at) AS last_received_at
FROM ${database}.events_local
GROUP BY day
