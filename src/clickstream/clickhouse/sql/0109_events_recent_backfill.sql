-- The last three days stored before events_recent_mv existed (an upgraded database).
-- Repeatable: a row copied twice, or here and by the view at once, is one row through
-- FINAL, which is how it is read.
INSERT INTO ${database}.events_recent
SELECT event_id, event_type, event_time, user_id, anonymous_id
FROM ${database}.events
WHERE event_time >= toDateTime(today() - 2, 'UTC')
