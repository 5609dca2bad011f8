-- Clicks on interface elements (films, trailers, persons...) by element and page, per day.
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `clicks_by_element` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.clicks_by_element_raw ${on_cluster} AS
${raw_clicks_by_element}
