# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash

.PHONY: run test lint bench install

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
