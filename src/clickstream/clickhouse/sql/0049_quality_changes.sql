-- Video quality switches (from -> to) by device and country, per day, with the
-- direction: up or down by vertical resolution ("720p" -> 720, "4k" -> 2160);
-- "unknown" when a label carries no resolution (e.g. "auto").
-- Days whose latest build is fresh (rollup_fresh) come from rollup_quality_changes; the
-- others (today, days with rows arrived since their build, erased days) are
-- computed live from events FINAL, from the first such day on so that partitions
-- before it are pruned (18.16 folds the scalar subquery before index analysis).
CREATE VIEW IF NOT EXISTS ${database}.quality_changes ${on_cluster} AS
${served_v1_quality_changes}
