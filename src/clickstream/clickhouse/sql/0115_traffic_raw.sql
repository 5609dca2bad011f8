-- Events per hour by type, computed from the whole history through FINAL:
-- the reference the rollup-backed `traffic` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.traffic_raw ${on_cluster} AS
${raw_traffic}
