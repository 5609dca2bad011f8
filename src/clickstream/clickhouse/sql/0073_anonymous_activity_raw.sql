-- Per day, the activity of each anonymous visitor (no user_id) by anonymous_id.
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `anonymous_activity` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.anonymous_activity_raw ${on_cluster} AS
${raw_anonymous_activity}
