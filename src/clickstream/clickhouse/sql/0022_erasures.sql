-- The audit of erasure requests: who asked, when, for which id (its sha256,
-- never the id itself), how many rows went and from which days (for the
-- rollup rebuild). `clickstream erase` writes the record to every node, so
-- any node shows the whole audit.
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
ENGINE = MergeTree()
ORDER BY (requested_at, id_hash)
