# pumpflow: `make up` runs both services, `make test` runs the suite. `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROTO_SRC := $(wildcard proto/pumpflow/v1/*.proto)
SIM_ARGS ?= --rate 100 --speed 10
REPLAY_ARGS ?=
STRATEGY_REPLAY_ARGS ?=
BENCH_ARGS ?=
# DEMO=1: replay / strategy-replay work on the embedded demo database (what `make demo` filled).
DEMO ?=
STACK_DB := $(if $(DEMO),--demo-db)
BENCH_REPLAY_ARGS ?= --rows 100000

.PHONY: help bootstrap up demo migrate test lint fmt proto proto-check replay bench strategy-replay clean-data

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

bootstrap: $(STAMP) ## create .venv and install pinned dependencies (first use of any target does it)

up: $(STAMP) ## migrate, then run executor + strategy in the foreground (Ctrl-C stops both)
	$(BIN)/python -m scripts.stack up

demo: $(STAMP) ## simulator + executor + strategy on generated traffic (SIM_ARGS="--rate 500")
	$(BIN)/python -m scripts.stack demo -- $(SIM_ARGS)

migrate: $(STAMP) ## alembic upgrade head on DATABASE_URL (or the embedded Postgres under .data/)
	$(BIN)/python -m scripts.stack migrate

test: $(STAMP) proto-check ## the whole suite against real Postgres (DATABASE_URL or embedded)
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff (lint + format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP) ## apply ruff format and autofixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

proto: $(STAMP) ## regenerate pumpflow/v1 from proto/
	$(BIN)/python -m scripts.protogen pumpflow/v1

proto-check: $(STAMP) ## fail when the committed generated code is stale
	$(BIN)/python -m scripts.protogen --check pumpflow/v1

replay: $(STAMP) ## rebuild the derived tables from raw_logs + transactions (REPLAY_ARGS="--from-slot N"; DEMO=1)
	$(BIN)/python -m scripts.stack $(STACK_DB) run -- $(BIN)/python -m executor replay $(REPLAY_ARGS)
	$(BIN)/python -m scripts.stack $(STACK_DB) run -- $(BIN)/python -m executor verify

bench: $(STAMP) ## benchmarks: decoder, simulator, ingest, replay (BENCH_ARGS: bench.ingest; BENCH_REPLAY_ARGS="--rows 1000000")
	$(BIN)/python -m bench.decode
	$(BIN)/python -m bench.sim
	$(BIN)/python -m scripts.stack run -- $(BIN)/python -m bench.ingest $(BENCH_ARGS)
	$(BIN)/python -m scripts.stack run -- $(BIN)/python -m bench.replay $(BENCH_REPLAY_ARGS)

strategy-replay: $(STAMP) ## run the signals over the stored events (STRATEGY_REPLAY_ARGS="--check-stored"; DEMO=1)
	$(BIN)/python -m scripts.stack $(STACK_DB) run -- $(BIN)/python -m strategy replay $(STRATEGY_REPLAY_ARGS)

clean-data: ## delete the embedded Postgres under .data/
	rm -rf .data/pg
