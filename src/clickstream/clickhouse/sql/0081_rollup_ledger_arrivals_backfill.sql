-- The rows counted before the ledger existed (by rollup_arrivals, 0024-0027).
-- Repeatable: a day counted twice (or counted here and by the new view at once) only
-- looks stale and is rebuilt once more; a count only has to grow. Builds are not
-- carried over: every day is rebuilt once, after which old erasures cannot matter.
-- Through the Distributed tables, so the whole cluster.
INSERT INTO ${database}.rollup_ledger
    (day, rollup_name, build_id, rows_seen, started_at, erased_at, arrived_rows, events_hash)
SELECT
    day, '', toUInt64(0), toUInt64(0), toDateTime(0, 'UTC'), toDateTime(0, 'UTC'),
    sumState(toUInt64(arrived_rows)), sumState(toUInt64(0))
FROM ${database}.rollup_arrived
GROUP BY day
