-- Watch time and completion per film and day: played time from the heartbeats'
-- played_ms, playbacks by playback_id, completion_rate = completions / starts
-- (nan on a day without starts).
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `watch_time` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.watch_time_raw ${on_cluster} AS
${raw_watch_time}
