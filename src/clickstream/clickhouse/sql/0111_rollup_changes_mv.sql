-- Fed from the storage table after a block is written (as rollup_arrivals_mv), so a
-- build that starts after changed_at reads the block. A row per event day in the
-- block: a late event for an old day marks that day's hours, not every hour between.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.rollup_changes_mv ${on_cluster}
TO ${database}.rollup_changes
AS SELECT
    now() AS changed_at,
    min(toStartOfHour(event_time)) AS first_hour,
    max(toStartOfHour(event_time)) AS last_hour,
    '' AS pass_of
FROM ${database}.events_local
GROUP BY toDate(event_time)
