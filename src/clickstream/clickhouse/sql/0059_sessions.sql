-- Sessions per day: from session_id where events carry one (source 'session_id'),
-- else a 30-minute-gap sessionisation of each visitor's events (user_id, else
-- anonymous_id; source 'gap'; events with neither are left out). Sessions are cut at
-- UTC midnight. Duration: first to last event; a bounce is a session with at most
-- one page view and no other event (engagement reports aside).
-- Days whose latest build is fresh (rollup_fresh) come from rollup_sessions; the
-- others are computed live from events FINAL, from the first such day on.
CREATE VIEW IF NOT EXISTS ${database}.sessions ${on_cluster} AS
${served_v1_sessions}
