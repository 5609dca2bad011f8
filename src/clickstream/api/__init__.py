"""The ingest HTTP API (FastAPI served by gunicorn with uvicorn workers)."""
