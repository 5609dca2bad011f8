-- Erased ids (sha256 hex) the ETL drops from every record it consumes, so a
-- replay of Kafka or a dead-letter redrive cannot bring erased data back. In
-- the ETL's database, the one its user may read (the requests themselves are
-- audited in ${database}.erasures). Written to every node by
-- `clickstream erase`, so whichever node the ETL reaches has the whole list.
CREATE TABLE IF NOT EXISTS ${database}_ingest.suppressed_ids ${on_cluster}
(
    id_kind String,
    id_hash String,
    added_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
ORDER BY (id_kind, id_hash)
