-- Sessions per day: from session_id where events carry one (source 'session_id'),
-- else a 30-minute-gap sessionisation of each visitor's events (user_id, else
-- anonymous_id; source 'gap'; events with neither are left out). Sessions are cut at
-- UTC midnight. Duration: first to last event; a bounce is a session with at most
-- one page view and no other event (engagement reports aside).
-- Computed from the whole history through FINAL: the reference the rollup-backed
-- `sessions` view is tested and benchmarked against.
CREATE VIEW IF NOT EXISTS ${database}.sessions_raw ${on_cluster} AS
${raw_sessions}
