-- Use of search filters by filter type and value, per day.
CREATE VIEW IF NOT EXISTS ${database}.search_filters ${on_cluster} AS
${raw_search_filters}
