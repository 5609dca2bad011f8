-- engaged_time_on_page: the days before rollup_live_from from its rollup's latest builds, the rest live
-- from events FINAL (Rollup.served_sql renders the body from rollup_sql/).
CREATE VIEW IF NOT EXISTS ${database}.engaged_time_on_page ${on_cluster} AS
${served_engaged_time_on_page}
