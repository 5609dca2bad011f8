-- Every shard's arrivals (each shard counts the rows it stored).
CREATE TABLE IF NOT EXISTS ${database}.rollup_arrivals ${on_cluster}
AS ${database}.rollup_arrivals_local
ENGINE = Distributed(${cluster}, ${database}, rollup_arrivals_local, rand())
