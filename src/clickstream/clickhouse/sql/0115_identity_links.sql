-- identity_links, served from rollup_identity_links for the days whose latest build is fresh,
-- live for the others (questions.py renders it from the question: Rollup.served_sql).
CREATE VIEW IF NOT EXISTS ${database}.identity_links ${on_cluster} AS
${served_view_identity_links}
