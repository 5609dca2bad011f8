-- The Distributed table's columns follow the storage table's (0012).
ALTER TABLE ${database}.events ${on_cluster}
    ADD COLUMN IF NOT EXISTS client_timestamp DateTime('UTC'),
    ADD COLUMN IF NOT EXISTS sent_at DateTime('UTC')
