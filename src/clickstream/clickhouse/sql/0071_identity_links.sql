-- Per day, each anonymous_id seen together with a user_id: the user of its latest
-- such event that day (ties broken by user_id), and when.
-- Days whose latest build is fresh (rollup_fresh) come from rollup_identity_links; the
-- others are computed live from events FINAL, from the first such day on.
CREATE VIEW IF NOT EXISTS ${database}.identity_links ${on_cluster} AS
${served_v1_identity_links}
