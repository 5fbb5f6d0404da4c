# Samooh: `make run` starts the whole platform, `make test` runs the whole suite.
# Both install what they need first (Python venv, web client, local services; downloads are
# cached under $${XDG_CACHE_HOME:-~/.cache}/samooh and the package managers' own caches).

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
WEB_SOURCES := $(shell find web/src web/scripts -type f 2>/dev/null) web/index.html web/package.json web/package-lock.json web/vite.config.ts web/tsconfig.json clients/typescript/src/roomlog.ts

.PHONY: run test drills test-long lint typecheck web client-types venv services-up services-down services-status clean bench help

help:
	@echo "make run    — start services, web server, worker, market replayer, demo data; Ctrl-C stops"
	@echo "make test   — install, start test services, ruff + mypy + pytest, stop services"
	@echo "make bench  — the fan-out benchmark, Samooh against a Node Socket.IO server (bench/fanout.py)"
	@echo "make test-long — make test with the long Hypothesis profile (HYPOTHESIS_PROFILE=long)"
	@echo "make drills — the failure drills (tests/drills/): Redis stopped, Kafka restarted; minutes each"
	@echo "make client-types — regenerate the TypeScript client's types from the AsyncAPI and OpenAPI documents"

run: $(VENV)/.installed web/dist/.built
	@$(PY) scripts/run.py

test: $(VENV)/.installed web/dist/.built
	@bash scripts/test.sh

# The failure drills (tests/drills/, not part of `make test`: each starts a Redis or Kafka of its
# own plus two web processes and a worker, stops that server under load and checks what
# survives; README "Failure drills" lists them and their durations).
drills: $(VENV)/.installed web/dist/.built
	@bash scripts/test.sh tests/drills

# The same suite with the long Hypothesis profile (more and longer random runs of the books'
# state machine, tests/books/test_books_state_machine.py).
test-long: $(VENV)/.installed web/dist/.built
	@HYPOTHESIS_PROFILE=long bash scripts/test.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -U pip setuptools
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]' --config-settings editable_mode=compat
	@touch $@

web: web/dist/.built

web/dist/.built: $(WEB_SOURCES)
	@cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent
	@touch $@

# The TypeScript client's generated types (clients/typescript/src/generated) from the server's
# AsyncAPI and OpenAPI documents: after changing an event, a payload or a route
# (tests/realtime/test_ts_client.py fails until they match).
client-types: $(VENV)/.installed
	@$(PY) clients/typescript/scripts/contract.py .local/contract
	@cd clients/typescript && (test -d node_modules || npm ci --no-audit --no-fund --loglevel=error) \
		&& node scripts/generate.mjs ../../.local/contract

services-up: $(VENV)/.installed
	@$(PY) scripts/services.py up --profile run >/dev/null

services-down: $(VENV)/.installed
	@$(PY) scripts/services.py down --profile run

services-status: $(VENV)/.installed
	@$(PY) scripts/services.py status --profile run

# The fan-out table (Node reference and Samooh side by side), the worker's tick throughput and
# the HTTP load run, one after the other, each printing its figures.
# locust and py-spy live in a virtual environment of their own (bench/requirements.txt): locust
# patches the standard library with gevent and registers a pytest plugin, which must never reach
# the project's environment.
BENCH_VENV := .local/bench-venv

bench: $(VENV)/.installed $(BENCH_VENV)/.installed bench/node_modules/.installed
	@$(PY) bench/fanout.py
	@$(PY) bench/worker_ticks.py --py-spy $(BENCH_VENV)/bin/py-spy
	@$(PY) bench/http_load.py --locust $(BENCH_VENV)/bin/locust

$(BENCH_VENV)/.installed: bench/requirements.txt
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	@$(BENCH_VENV)/bin/python -m pip install -q --disable-pip-version-check -r bench/requirements.txt
	@touch $@

bench/node_modules/.installed: bench/package.json bench/package-lock.json
	@cd bench && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

clean:
	rm -rf $(VENV) web/node_modules web/dist .local .pytest_cache .mypy_cache .ruff_cache
