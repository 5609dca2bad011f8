-- Identity, stitched at query time: each anonymous_id -> the user_id it was last seen
-- with (the latest event carrying both), from the identity_links rollup.
CREATE VIEW IF NOT EXISTS ${database}.identity_map ${on_cluster} AS
SELECT
    anonymous_id,
    argMax(identified_as, concat(toString(linked_at), identified_as)) AS user_id,
    max(linked_at) AS identified_at
FROM ${database}.identity_links
GROUP BY anonymous_id
