-- The Distributed table's columns follow the storage table's (0016).
ALTER TABLE ${database}.events ${on_cluster}
    ADD COLUMN IF NOT EXISTS anonymous_id String,
    ADD COLUMN IF NOT EXISTS session_id String,
    ADD COLUMN IF NOT EXISTS page_view_id String,
    ADD COLUMN IF NOT EXISTS engaged_ms UInt32,
    ADD COLUMN IF NOT EXISTS max_scroll_pct UInt8,
    ADD COLUMN IF NOT EXISTS playback_id String,
    ADD COLUMN IF NOT EXISTS position_s Float64,
    ADD COLUMN IF NOT EXISTS quality String,
    ADD COLUMN IF NOT EXISTS played_ms UInt32,
    ADD COLUMN IF NOT EXISTS browser String,
    ADD COLUMN IF NOT EXISTS os String,
    ADD COLUMN IF NOT EXISTS device_class String,
    ADD COLUMN IF NOT EXISTS is_bot UInt8
