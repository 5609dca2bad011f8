-- Envelope (schema_version 1 or 2) -> row. As in 0005, the envelope is flat
-- JSON written by our own API, so the visitParam* extractors are exact, and a
-- missing key reads as '' or 0. Version 2 carries the corrected event_time
-- and the client's timestamp; version 1 only the timestamp, which was its
-- event time. `if` evaluates both branches on 18.16, so an absent time is
-- replaced by the epoch before parsing rather than after.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.events_ingest_mv ${on_cluster}
TO ${database}.events
AS SELECT
    toUUID(visitParamExtractString(envelope, 'event_id')) AS event_id,
    visitParamExtractString(envelope, 'event_type') AS event_type,
    parseDateTimeBestEffort(if(empty(visitParamExtractString(envelope, 'event_time')),
        visitParamExtractString(envelope, 'timestamp'),
        visitParamExtractString(envelope, 'event_time'))) AS event_time,
    parseDateTimeBestEffort(visitParamExtractString(envelope, 'timestamp')) AS client_timestamp,
    parseDateTimeBestEffort(if(empty(visitParamExtractString(envelope, 'sent_at')),
        '1970-01-01T00:00:00Z',
        visitParamExtractString(envelope, 'sent_at'))) AS sent_at,
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
