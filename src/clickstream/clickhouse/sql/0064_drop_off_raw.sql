-- Drop-off curve per film and day: of the playbacks with a known film length, the
-- share still watching at each 5% of the film (max position_s / duration_s of the
-- playback's start and heartbeats that day).
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `drop_off` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.drop_off_raw ${on_cluster} AS
${raw_drop_off}
