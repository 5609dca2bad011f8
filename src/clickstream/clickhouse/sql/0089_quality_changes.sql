-- quality_changes: the days before rollup_live_from from its rollup's latest builds, the rest live
-- from events FINAL (Rollup.served_sql renders the body from rollup_sql/).
CREATE VIEW IF NOT EXISTS ${database}.quality_changes ${on_cluster} AS
${served_quality_changes}
