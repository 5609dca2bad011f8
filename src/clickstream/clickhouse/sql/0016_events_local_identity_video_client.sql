-- Envelope v2, the rest: visitor and session ids, page engagement, playback
-- (video_start / video_heartbeat; their duration_s goes to the existing
-- duration_s column, in whole seconds), and what the User-Agent header says
-- (browser, os, device_class, is_bot; never the client's address). No
-- defaults: an ETL retry must send a byte-identical block. Older rows read ''/0.
ALTER TABLE ${database}.events_local ${on_cluster}
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
