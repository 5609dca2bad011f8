-- As rollup_changes_mv (which the next migration drops), but only for a block that
-- touches an hour a pass may have built: before the open hour 60 s from now (the
-- job's VERIFY_MARGIN_S). An hour from then on is live in the hourly views anyway
-- (the latest pass started before now, so its first_hour is at most this hour) and
-- the next pass that closes it builds it (it builds every hour from the previous
-- pass's first_hour on). So a steady stream of current events writes no row, and the
-- live hour's read stays small: a row per block was 86,400 a day at a block a second.
-- Created before the old view is dropped, so no block goes unrecorded meanwhile.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.rollup_changes_closed_mv ${on_cluster}
TO ${database}.rollup_changes
AS SELECT
    now() AS changed_at,
    min(toStartOfHour(event_time)) AS first_hour,
    max(toStartOfHour(event_time)) AS last_hour,
    '' AS pass_of
FROM ${database}.events_local
GROUP BY toDate(event_time)
HAVING first_hour < toStartOfHour(now() + 60)
