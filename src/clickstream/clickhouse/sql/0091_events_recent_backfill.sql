-- Today's and yesterday's events stored before events_recent_mv existed.
-- Repeatable: a row copied twice (or copied here and by the view at once) is one row
-- through FINAL, which is how the views read it. Through the Distributed tables, so
-- the whole cluster.
INSERT INTO ${database}.events_recent
SELECT * FROM ${database}.events
WHERE event_time >= toDateTime(today() - 1, 'UTC')
