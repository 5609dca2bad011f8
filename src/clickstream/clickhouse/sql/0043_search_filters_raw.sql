-- Use of search filters by filter type and value, per day.
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `search_filters` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.search_filters_raw ${on_cluster} AS
SELECT
    toDate(event_time) AS day,
    filter_type,
    filter_value,
    count() AS uses,
    uniqExactIf(user_id, user_id != '') AS users
FROM ${database}.events FINAL
WHERE event_type = 'search_filter_use'
GROUP BY day, filter_type, filter_value
