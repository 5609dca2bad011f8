# The README's commands and CI's. Everything installs itself on first use:
# uv (pinned, in .cache/), the venv from uv.lock, Kafka's jars from Maven
# Central and Debian's ClickHouse and ZooKeeper (by `clickstream local`, the
# development stack in src/clickstream_local: in the venv, not in the wheel).

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .cache/uv/bin/uv
VENV := .venv
CLI := $(VENV)/bin/clickstream
PYTEST := $(VENV)/bin/pytest
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)


.PHONY: help venv system-deps run up up-cluster down status test test-unit test-integration \
        test-cluster test-hostile test-modern test-browser lint format typecheck bench bench-ingest \
        bench-etl bench-queries chaos chaos-quick ci clean

help:
	@echo "make run      set up everything, run the stack and pipeline in the foreground"
	@echo "make test     every test (unit, chart, integration on single and cluster)"
	@echo "make up|down  the stack, detached (make up-cluster: 3 brokers, 2x2 ClickHouse)"
	@echo "make lint     ruff + mypy --strict;  make bench / chaos: benchmarks, fault injection"

# Kubernetes targets (the image, the chart's offline checks): k8s.mk.
include k8s.mk
# The modern-ClickHouse tier on chDB (make test-modern): tests/modern/modern.mk.
include tests/modern/modern.mk
# The browser tracker (make sdk, sdk-test, sdk-check): clients/js/sdk.mk.
include clients/js/sdk.mk
# The tracker in Chromium against the real stack (make test-browser): tests/browser/browser.mk.
include tests/browser/browser.mk

$(UV):
	@echo "[make] installing uv $(UV_VERSION) into .cache/uv"
	@$(PYTHON) -m venv .cache/uv
	@.cache/uv/bin/pip install -q "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	@$(UV) sync --frozen --python $(PYTHON) --quiet
	@touch $@

venv: $(VENV)/.synced

system-deps:
	scripts/install-system-deps.sh

run: system-deps venv
	$(CLI) local up --topology single

up: venv
	$(CLI) local up --topology single --detach

up-cluster: venv
	$(CLI) local up --topology cluster --detach

down: venv
	$(CLI) local down

status: venv
	$(CLI) local status

# The whole suite: fast tests, then integration tests against the real stack in
# each topology (they share ports, so one after the other).
test: venv $(HELM)
	HELM=$(HELM) K8S_KUBE_VERSION=$(K8S_KUBE_VERSION) $(PYTEST) tests/unit tests/chart -q
	$(MAKE) --no-print-directory sdk-check sdk-test
	$(MAKE) --no-print-directory test-modern
	$(MAKE) --no-print-directory test-integration
	$(MAKE) --no-print-directory test-cluster
	$(MAKE) --no-print-directory test-hostile
	$(MAKE) --no-print-directory test-browser

test-unit: venv
	$(PYTEST) tests/unit -q

test-integration: venv
	@$(CLI) local down >/dev/null 2>&1 || true
	$(CLI) local up --topology single --detach
	$(PYTEST) tests/integration -m "not cluster" -q; status=$$?; \
	  $(CLI) local down; exit $$status

test-cluster: venv
	@$(CLI) local down >/dev/null 2>&1 || true
	$(CLI) local up --topology cluster --detach
	$(PYTEST) tests/integration -m "cluster or anytopology" -q; status=$$?; \
	  $(CLI) local down; exit $$status

# Hostile input against the real gunicorn API; starts its own stack on other
# ports (only when asked to: a bare pytest skips it).
test-hostile: venv
	START_TEST_STACK=1 $(PYTEST) tests/hostile -q

# lint-imports: the import contracts in pyproject.toml ([tool.importlinter]).
lint: venv
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy src tests
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff format src tests
	$(VENV)/bin/ruff check --fix src tests

typecheck: venv
	$(VENV)/bin/mypy src tests

# Benchmarks print numbers (RESULT lines); they need the stack: `make up`.
bench-ingest: venv
	$(VENV)/bin/python -m tests.benchmarks.ingest

bench-etl: venv
	$(VENV)/bin/python -m tests.benchmarks.etl

# Analyst queries, rollups vs events FINAL: make bench-queries ARGS="--engine chdb --events 100000000"
bench-queries: venv
	nice $(VENV)/bin/python -m tests.benchmarks.queries $(ARGS)

# On the cluster topology; brings its own stack up and down.
bench: venv
	$(VENV)/bin/python -m tests.benchmarks.all

# Fault injection on the cluster topology (own stack, own ports); CI runs --quick.
chaos: venv
	$(VENV)/bin/python -m tests.chaos

chaos-quick: venv
	$(VENV)/bin/python -m tests.chaos --quick

ci: lint test

clean:
	-$(CLI) local down
	rm -rf .cache/local $(VENV)

