-- The Distributed table's columns follow the storage table's (0016).
ALTER TABLE ${database}.events ${on_cluster}
    ADD COLUMN anonymous_id String,
    ADD COLUMN session_id String,
    ADD COLUMN page_view_id String,
    ADD COLUMN engaged_ms UInt32,
    ADD COLUMN max_scroll_pct UInt8,
    ADD COLUMN playback_id String,
    ADD COLUMN position_s Float64,
    ADD COLUMN quality String,
    ADD COLUMN played_ms UInt32,
    ADD COLUMN browser String,
    ADD COLUMN os String,
    ADD COLUMN device_class String,
    ADD COLUMN is_bot UInt8
