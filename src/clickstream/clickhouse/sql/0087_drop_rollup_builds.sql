-- Builds are recorded in rollup_ledger; every day is rebuilt once after this upgrade.
DROP TABLE IF EXISTS ${database}.rollup_builds ${on_cluster}
