-- page_views: the days before rollup_live_from from its rollup's latest builds, the rest live
-- from events FINAL (Rollup.served_sql renders the body from rollup_sql/).
CREATE VIEW IF NOT EXISTS ${database}.page_views ${on_cluster} AS
${served_page_views}
