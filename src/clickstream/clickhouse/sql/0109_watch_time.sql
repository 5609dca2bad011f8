-- watch_time, served from rollup_watch_time for the days whose latest build is fresh,
-- live for the others (questions.py renders it from the question: Rollup.served_sql).
CREATE VIEW IF NOT EXISTS ${database}.watch_time ${on_cluster} AS
${served_view_watch_time}
