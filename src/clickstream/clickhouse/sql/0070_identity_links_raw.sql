-- Per day, each anonymous_id seen together with a user_id: the user of its latest
-- such event that day (ties broken by user_id), and when.
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `identity_links` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.identity_links_raw ${on_cluster} AS
${raw_identity_links}
