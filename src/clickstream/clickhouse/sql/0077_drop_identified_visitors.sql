-- `identified_visitors` joined with ANY INNER JOIN, which modern ClickHouse (20.x on)
-- reads as one row per key from the left side too: a visitor's other anonymous days
-- vanished. The next migration creates it again with ALL (the right side is one row
-- per anonymous_id, so ALL keeps every left row, as 18.16's ANY did).
DROP TABLE IF EXISTS ${database}.identified_visitors ${on_cluster}
