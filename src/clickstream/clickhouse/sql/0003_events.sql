-- What analysts query. All events of one user land on one shard (so per-user
-- sequences such as time on page stay local); anonymous events spread by event_id.
-- cityHash64 refuses a UUID on ClickHouse 18.16, hence toString.
CREATE TABLE IF NOT EXISTS ${database}.events ${on_cluster}
AS ${database}.events_local
ENGINE = Distributed(${cluster}, ${database}, events_local, cityHash64(if(user_id = '', toString(event_id), user_id)))
