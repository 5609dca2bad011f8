-- Every shard's ledger. A build is recorded through it on one shard (rand()), so a
-- read counts it once; arrivals add up across shards; an erasure, recorded on every
-- node, is seen once per shard, and only its latest time matters.
CREATE TABLE IF NOT EXISTS ${database}.rollup_ledger ${on_cluster}
AS ${database}.rollup_ledger_local
ENGINE = Distributed(${cluster}, ${database}, rollup_ledger_local, rand())
