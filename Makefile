# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash

.PHONY: run test lint bench bench-api bench-soak install

install:
	@source scripts/env.sh && "$$UV" sync --frozen

run:
	@bash scripts/run.sh

test: install
	@source scripts/env.sh && .venv/bin/pytest $(PYTEST_ARGS)

lint: install
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports

bench: install
	@.venv/bin/python bench/ingest.py
	@.venv/bin/python bench/process.py
	@.venv/bin/python bench/delivery.py
	@.venv/bin/python bench/ai_cost.py
	@.venv/bin/python bench/dashboard.py

# API throughput under gunicorn + PostgreSQL + Redis (+ S3 on moto) with wrk: needs those servers.
bench-api: install
	@.venv/bin/python bench/api_load.py

# Soak: mixed traffic against the production configuration; MINUTES=30 is the issue's run.
bench-soak: install
	@.venv/bin/python bench/soak.py --minutes $${MINUTES:-30}
