"""The ETL: consume -> pure transform -> batch -> write -> commit; dead letters."""
