-- Events per hour by type. Created here from events FINAL (what the view served at this
-- step, builds then live, reads tables of later migrations now): migration 0124 gives
-- it its rollup-backed body.
CREATE VIEW IF NOT EXISTS ${database}.traffic ${on_cluster} AS
${raw_traffic}
