-- Replaced by each question's own read of rollup_ledger (questions.py, days_sql).
DROP TABLE IF EXISTS ${database}.rollup_fresh ${on_cluster}
