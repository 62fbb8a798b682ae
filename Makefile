# The two commands: `make run` (demo gateway on SQLite) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint schema clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/pilotgraph db upgrade
	$(BIN)/pilotgraph demo load --if-empty
	$(BIN)/pilotgraph serve

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy gateway tenants schema rollout

schema: $(STAMP)
	$(BIN)/pilotgraph schema export

clean:
	rm -rf $(VENV) var .cache
