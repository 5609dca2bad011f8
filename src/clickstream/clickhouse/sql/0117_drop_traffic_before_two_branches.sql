-- `traffic` reads two branches, not three (next migration): the hours before the live
-- hour from rollup_traffic, the rest from events_recent only.
DROP TABLE IF EXISTS ${database}.traffic ${on_cluster}
