-- Quality switches per hour watched, by device (the User-Agent's class when known,
-- else the event's device) and country, per day; upgrades and downgrades by
-- vertical resolution as in quality_changes (labels without one count in neither).
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `quality_per_hour` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.quality_per_hour_raw ${on_cluster} AS
${raw_quality_per_hour}
