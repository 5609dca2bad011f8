-- Clicks on interface elements (films, trailers, persons...) by element and page, per day.
CREATE VIEW IF NOT EXISTS ${database}.clicks_by_element ${on_cluster} AS
${raw_clicks_by_element}
