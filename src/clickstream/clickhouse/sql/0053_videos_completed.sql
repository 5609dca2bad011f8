-- Films watched to the end: completions and distinct viewers per video and day.
-- Days whose latest build is fresh (rollup_fresh) come from rollup_videos_completed; the
-- others (today, days with rows arrived since their build, erased days) are
-- computed live from events FINAL, from the first such day on so that partitions
-- before it are pruned (18.16 folds the scalar subquery before index analysis).
CREATE VIEW IF NOT EXISTS ${database}.videos_completed ${on_cluster} AS
${served_v1_videos_completed}
