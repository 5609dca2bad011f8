-- Films watched to the end: completions and distinct viewers per video and day.
CREATE VIEW IF NOT EXISTS ${database}.videos_completed ${on_cluster} AS
${raw_videos_completed}
