-- Per event day: how many rows reached storage, and the newest received_at among them.
-- A build remembers the count it started from; a larger count later means rows
-- arrived for that day since (late events, retries), so the day is rebuilt. A count
-- rather than the newest received_at, because Kafka lag lets an event with an older
-- received_at land after a build started. events_hash only keeps two different
-- blocks with equal counts from looking identical to replicated block deduplication.
CREATE TABLE IF NOT EXISTS ${database}.rollup_arrivals_local ${on_cluster}
(
    day Date,
    rows_state AggregateFunction(count),
    events_hash AggregateFunction(sum, UInt64),
    last_received_at AggregateFunction(max, DateTime('UTC'))
)
ENGINE = ${sharded_aggregating_engine}
ORDER BY day
