-- Every shard's recent events. Sharded as `events`, so a row written through it (the
-- backfill) lands beside its events_local copy and FINAL per shard stays exact.
CREATE TABLE IF NOT EXISTS ${database}.events_recent ${on_cluster}
AS ${database}.events_recent_local
ENGINE = Distributed(${cluster}, ${database}, events_recent_local, cityHash64(if(user_id = '', toString(event_id), user_id)))
