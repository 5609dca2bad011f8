-- Films watched to the end: completions and distinct viewers per video and day.
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `videos_completed` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.videos_completed_raw ${on_cluster} AS
${raw_videos_completed}
