-- Envelope v2 (the time policy): the client's own timestamp, unchanged, and
-- the request's sent_at (1970-01-01 00:00:00 when it carried none); event_time
-- now holds the time corrected by sent_at. No defaults: an ETL retry must send
-- a byte-identical block. Rows stored before this read 1970-01-01 in both.
ALTER TABLE ${database}.events_local ${on_cluster}
    ADD COLUMN client_timestamp DateTime('UTC'),
    ADD COLUMN sent_at DateTime('UTC')
