-- search_filters: the days before rollup_live_from from its rollup's latest builds, the rest live
-- from events FINAL (Rollup.served_sql renders the body from rollup_sql/).
CREATE VIEW IF NOT EXISTS ${database}.search_filters ${on_cluster} AS
${served_search_filters}
