-- Rows stored so far per event day (duplicates included: it only has to grow).
CREATE VIEW IF NOT EXISTS ${database}.rollup_arrived ${on_cluster} AS
SELECT
    day,
    countMerge(rows_state) AS arrived_rows,
    maxMerge(last_received_at) AS last_received_at
FROM ${database}.rollup_arrivals
GROUP BY day
