-- Envelope (schema_version 1) -> row. The envelope is flat JSON written by our
-- own API, so the simple visitParam* extractors are exact: a key's pattern
-- "name": cannot occur inside an escaped string value. Missing keys give ''/0.
-- Inserting through the Distributed table keeps the sharding in one place; the
-- ETL sets insert_distributed_sync=1 so the insert returns only once every
-- shard has the rows.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.events_ingest_mv ${on_cluster}
TO ${database}.events
AS SELECT
    toUUID(visitParamExtractString(envelope, 'event_id')) AS event_id,
    visitParamExtractString(envelope, 'event_type') AS event_type,
    parseDateTimeBestEffort(visitParamExtractString(envelope, 'timestamp')) AS event_time,
    parseDateTimeBestEffort(visitParamExtractString(envelope, 'received_at')) AS received_at,
    visitParamExtractString(envelope, 'user_id') AS user_id,
    visitParamExtractString(envelope, 'country') AS country,
    visitParamExtractString(envelope, 'device') AS device,
    visitParamExtractString(envelope, 'element') AS element,
    visitParamExtractString(envelope, 'page_url') AS page_url,
    visitParamExtractString(envelope, 'referrer_url') AS referrer_url,
    visitParamExtractString(envelope, 'filter_type') AS filter_type,
    visitParamExtractString(envelope, 'filter_value') AS filter_value,
    visitParamExtractString(envelope, 'video_id') AS video_id,
    visitParamExtractString(envelope, 'from_quality') AS from_quality,
    visitParamExtractString(envelope, 'to_quality') AS to_quality,
    toUInt32(visitParamExtractUInt(envelope, 'current_time')) AS current_time_s,
    toUInt32(visitParamExtractUInt(envelope, 'duration')) AS duration_s,
    toUInt8(visitParamExtractUInt(envelope, 'schema_version')) AS schema_version
FROM ${database}.events_ingest
