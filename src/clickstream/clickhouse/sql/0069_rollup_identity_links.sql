-- identity_links per day, as the rollup job computed it from events FINAL under build_id.
CREATE TABLE IF NOT EXISTS ${database}.rollup_identity_links ${on_cluster}
(
    build_id UInt64,
    day Date,
    anonymous_id String,
    identified_as String,
    linked_at DateTime('UTC')
)
ENGINE = ${global_merge_engine}
PARTITION BY toYYYYMM(day)
ORDER BY (day, build_id, anonymous_id)
