-- The Distributed table's columns follow the storage table's (0012).
ALTER TABLE ${database}.events ${on_cluster}
    ADD COLUMN client_timestamp DateTime('UTC'),
    ADD COLUMN sent_at DateTime('UTC')
