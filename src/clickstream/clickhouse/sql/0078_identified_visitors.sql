-- The anonymous activity of visitors later identified as a user: anonymous_activity
-- joined to identity_map when queried, so a new identification applies to all past
-- days at once. ALL INNER JOIN: every anonymous day of a visitor (identity_map holds
-- one row per anonymous_id), on 18.16 and on modern ClickHouse alike.
CREATE VIEW IF NOT EXISTS ${database}.identified_visitors ${on_cluster} AS
SELECT day, user_id, anonymous_id, events, page_views, first_seen, last_seen, identified_at
FROM ${database}.anonymous_activity
ALL INNER JOIN
(
    SELECT anonymous_id, user_id, identified_at FROM ${database}.identity_map
) AS identified USING anonymous_id
