-- Per day, the activity of each anonymous visitor (no user_id) by anonymous_id.
-- Days whose latest build is fresh (rollup_fresh) come from rollup_anonymous_activity; the
-- others are computed live from events FINAL, from the first such day on.
CREATE VIEW IF NOT EXISTS ${database}.anonymous_activity ${on_cluster} AS
${served_v1_anonymous_activity}
