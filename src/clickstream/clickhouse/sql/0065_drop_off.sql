-- Drop-off curve per film and day: of the playbacks with a known film length, the
-- share still watching at each 5% of the film (max position_s / duration_s of the
-- playback's start and heartbeats that day).
-- Days whose latest build is fresh (rollup_fresh) come from rollup_drop_off; the
-- others are computed live from events FINAL, from the first such day on.
CREATE VIEW IF NOT EXISTS ${database}.drop_off ${on_cluster} AS
${served_v1_drop_off}
