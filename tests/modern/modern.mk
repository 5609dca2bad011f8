# The modern-ClickHouse tier (tests/modern): the schema, the ingest path and
# every analyst view on chDB, ClickHouse 26.9 in-process; no stack, no ports.
# Included by the Makefile. chDB is not in uv.lock: a 170 MiB engine that only
# this tier uses, installed into the venv on first use. `uv sync` (the venv
# target) removes what the lock does not name, hence the check on every run.
# --no-deps: pandas and pyarrow serve only its DataFrame/Arrow outputs.
CHDB_VERSION := 26.9.0

.PHONY: test-modern
test-modern: venv
	@$(VENV)/bin/python -c "import importlib.metadata as m, sys; \
	  sys.exit(m.version('chdb-core') != '$(CHDB_VERSION)')" 2>/dev/null || \
	  $(UV) pip install --quiet --python $(VENV)/bin/python --no-deps chdb-core==$(CHDB_VERSION)
	$(PYTEST) tests/modern -q
