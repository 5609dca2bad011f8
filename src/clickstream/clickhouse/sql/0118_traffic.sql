-- As 0116: the body of this step (two branches) reads tables of later migrations now,
-- so a new database gets the view from events FINAL here, and its rollup-backed body
-- from migration 0124.
CREATE VIEW IF NOT EXISTS ${database}.traffic ${on_cluster} AS
${raw_traffic}
