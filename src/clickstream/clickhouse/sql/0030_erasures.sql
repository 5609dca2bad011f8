-- Erasure requests (written by `clickstream erase`, which deletes a person's rows with
-- mutations). The rollup job reads it: a day listed here whose erasure finished after
-- the day's last build is rebuilt, and served live meanwhile. Columns as agreed with
-- the erasure helper; whichever migration runs first creates it.
CREATE TABLE IF NOT EXISTS ${database}.erasures ${on_cluster}
(
    requested_at DateTime('UTC'),
    requested_by String,
    id_kind String,
    id_hash String,
    rows_deleted UInt64,
    days Array(Date),
    finished_at DateTime('UTC')
)
ENGINE = ${global_merge_engine}
ORDER BY requested_at
