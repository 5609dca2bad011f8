-- Quality switches per hour watched, by device (the User-Agent's class when known,
-- else the event's device) and country, per day; upgrades and downgrades by
-- vertical resolution as in quality_changes (labels without one count in neither).
-- Days whose latest build is fresh (rollup_fresh) come from rollup_quality_per_hour; the
-- others are computed live from events FINAL, from the first such day on.
CREATE VIEW IF NOT EXISTS ${database}.quality_per_hour ${on_cluster} AS
${served_v1_quality_per_hour}
