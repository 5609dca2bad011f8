-- Envelope (schema_version 1 or 2) -> row, every v2 field (0015 plus 0016's
-- columns). As in 0005, the envelope is flat JSON written by our own API, so
-- the visitParam* extractors are exact, and a missing or null key reads as ''
-- or 0. Version 1 carries no event_time: its timestamp was the event time.
-- `if` evaluates both branches on 18.16, so an absent time is replaced by the
-- epoch before parsing rather than after. The video's length is one column:
-- video_complete's `duration` or the playback events' `duration_s`.
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
    visitParamExtractString(envelope, 'anonymous_id') AS anonymous_id,
    visitParamExtractString(envelope, 'session_id') AS session_id,
    visitParamExtractString(envelope, 'page_view_id') AS page_view_id,
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
    toUInt32(if(visitParamHas(envelope, 'duration_s'),
        visitParamExtractFloat(envelope, 'duration_s'),
        visitParamExtractFloat(envelope, 'duration'))) AS duration_s,
    toUInt32(visitParamExtractUInt(envelope, 'engaged_ms')) AS engaged_ms,
    toUInt8(visitParamExtractUInt(envelope, 'max_scroll_pct')) AS max_scroll_pct,
    visitParamExtractString(envelope, 'playback_id') AS playback_id,
    visitParamExtractFloat(envelope, 'position_s') AS position_s,
    visitParamExtractString(envelope, 'quality') AS quality,
    toUInt32(visitParamExtractUInt(envelope, 'played_ms')) AS played_ms,
    visitParamExtractString(envelope, 'browser') AS browser,
    visitParamExtractString(envelope, 'os') AS os,
    visitParamExtractString(envelope, 'device_class') AS device_class,
    toUInt8(visitParamExtractBool(envelope, 'is_bot')) AS is_bot,
    toUInt8(visitParamExtractUInt(envelope, 'schema_version')) AS schema_version
FROM ${database}.events_ingest
