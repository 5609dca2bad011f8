-- clicks_by_element per day, as the rollup job computed it from events FINAL under build_id.
-- Final numbers, not -State columns: every question here is per day, so a day's
-- distinct users never need merging with another day's.
CREATE TABLE IF NOT EXISTS ${database}.rollup_clicks_by_element ${on_cluster}
(
    build_id UInt64,
    day Date,
    element String,
    page_url String,
    clicks UInt64,
    users UInt64,
    anonymous_clicks UInt64
)
ENGINE = ${global_merge_engine}
PARTITION BY toYYYYMM(day)
ORDER BY (day, build_id, element, page_url)
