-- `traffic` serves its builds from rollup_traffic_by_hour (next migration).
DROP TABLE IF EXISTS ${database}.traffic ${on_cluster}
