-- Envelope v2, the rest: visitor and session ids, page engagement, playback
-- (video_start / video_heartbeat; their duration_s goes to the existing
-- duration_s column, in whole seconds), and what the User-Agent header says
-- (browser, os, device_class, is_bot; never the client's address). No
-- defaults: an ETL retry must send a byte-identical block. Older rows read ''/0.
ALTER TABLE ${database}.events_local ${on_cluster}
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
