-- videos_completed, served from rollup_videos_completed for the days whose latest build is fresh,
-- live for the others (questions.py renders it from the question: Rollup.served_sql).
CREATE VIEW IF NOT EXISTS ${database}.videos_completed ${on_cluster} AS
${served_view_videos_completed}
