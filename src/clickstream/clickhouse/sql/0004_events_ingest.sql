-- The ETL's door: one String column holding the Kafka value (the envelope JSON)
-- as it came. ClickHouse parses it in the materialized view below, in C++,
-- instead of the ETL building ~18 typed columns per event in Python.
CREATE TABLE IF NOT EXISTS ${database}.events_ingest ${on_cluster}
(
    envelope String
)
ENGINE = Null
