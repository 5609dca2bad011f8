"""ClickHouse: the writer, the migration runner and the schema (asynch lives here)."""
