-- The ETL's door: inserts go on to ${database}.events_ingest, whose view loads
-- the events, so the envelope -> row view stays in one place. ClickHouse
-- 18.16 checks the inserting user's database rights only on the table named
-- in the INSERT, not on what a Distributed table or a view writes to (shown by
-- tests/integration/ops/test_privileges.py). The sharding key is a function of
-- the row, never rand(): a retried batch splits the same way, so replicated
-- block deduplication still recognises it.
CREATE TABLE IF NOT EXISTS ${database}_ingest.events_ingest ${on_cluster}
AS ${database}.events_ingest
ENGINE = Distributed(${cluster}, ${database}, events_ingest, cityHash64(envelope))
