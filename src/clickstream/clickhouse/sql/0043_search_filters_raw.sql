-- Use of search filters by filter type and value, per day.
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `search_filters` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.search_filters_raw ${on_cluster} AS
${raw_search_filters}
