-- search_filters per day, as the rollup job computed it from events FINAL under build_id.
-- Final numbers, not -State columns: every question here is per day, so a day's
-- distinct users never need merging with another day's.
CREATE TABLE IF NOT EXISTS ${database}.rollup_search_filters ${on_cluster}
(
    build_id UInt64,
    day Date,
    filter_type String,
    filter_value String,
    uses UInt64,
    users UInt64
)
ENGINE = ${global_merge_engine}
PARTITION BY toYYYYMM(day)
ORDER BY (day, build_id, filter_type, filter_value)
