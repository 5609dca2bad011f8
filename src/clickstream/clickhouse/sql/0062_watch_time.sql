-- Watch time and completion per film and day: played time from the heartbeats'
-- played_ms, playbacks by playback_id, completion_rate = completions / starts
-- (nan on a day without starts).
-- Days whose latest build is fresh (rollup_fresh) come from rollup_watch_time; the
-- others are computed live from events FINAL, from the first such day on.
CREATE VIEW IF NOT EXISTS ${database}.watch_time ${on_cluster} AS
${served_v1_watch_time}
