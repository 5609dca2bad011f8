-- Everything that decides which days a rollup-backed view may serve, in one small table,
-- so a view reads one table (not three joined) to know it: per event day, the rows
-- stored (rollup_name '', fed as they are stored), each build of each rollup (its
-- rows_seen and started_at, written by `clickstream rollup`), and each erasure
-- (erased_at, fed from erasures). Arrival rows of a day collapse into one as parts
-- merge; builds and erasures keep a row each (their key columns differ). events_hash
-- only keeps two different blocks with equal counts from looking identical to
-- replicated block deduplication. Per shard: each shard counts the rows it stored.
CREATE TABLE IF NOT EXISTS ${database}.rollup_ledger_local ${on_cluster}
(
    day Date,
    rollup_name String,
    build_id UInt64,
    rows_seen UInt64,
    started_at DateTime('UTC'),
    erased_at DateTime('UTC'),
    arrived_rows AggregateFunction(sum, UInt64),
    events_hash AggregateFunction(sum, UInt64)
)
ENGINE = ${sharded_aggregating_engine}
ORDER BY (day, rollup_name, build_id, erased_at, rows_seen, started_at)
