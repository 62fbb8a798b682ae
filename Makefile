# The two commands: `make run` (demo gateway on SQLite) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUBGRAPH := subgraphs/member_development
SUBGRAPH_STAMP := $(SUBGRAPH)/.venv/.installed
FEDERATION_STAMP := federation/node_modules/.installed
CONSOLE_DIST := console/dist/index.html

.PHONY: run test lint schema clean federation-deps run-federated

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The member-development subgraph has its own virtualenv (graphql-core 3.2 vs strawberry's 3.3).
$(SUBGRAPH_STAMP): $(SUBGRAPH)/pyproject.toml
	test -x $(SUBGRAPH)/.venv/bin/python || $(PYTHON) -m venv $(SUBGRAPH)/.venv
	$(SUBGRAPH)/.venv/bin/python -m pip install --quiet --upgrade pip
	$(SUBGRAPH)/.venv/bin/python -m pip install --quiet -e '$(SUBGRAPH)[dev]'
	touch $(SUBGRAPH_STAMP)

$(FEDERATION_STAMP): federation/package.json federation/package-lock.json
	npm ci --prefix federation --no-audit --no-fund --silent
	touch $(FEDERATION_STAMP)

federation-deps: $(SUBGRAPH_STAMP) $(FEDERATION_STAMP)

# The admin console (/admin): Chart.js from npm, copied with the page into console/dist; its build
# validates the console's trusted documents with the gateway's schema, hence the virtualenv.
$(CONSOLE_DIST): console/package.json console/package-lock.json console/build.mjs $(shell find console/src clients/trusted-documents -type f 2>/dev/null) | $(STAMP)
	npm ci --prefix console --no-audit --no-fund --silent
	npm run build --prefix console --silent

run-federated: $(STAMP) federation-deps
	federation/run.sh

run: $(STAMP) $(CONSOLE_DIST)
	$(BIN)/pilotgraph db upgrade
	$(BIN)/pilotgraph demo load --if-empty
	$(BIN)/pilotgraph serve

test: $(STAMP) federation-deps $(CONSOLE_DIST)
	cd $(SUBGRAPH) && .venv/bin/pytest -q
	npm ci --prefix tools/graphql-http-audit --no-audit --no-fund --silent
	$(BIN)/pytest

lint: $(STAMP) $(SUBGRAPH_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy gateway tenants schema rollout adoption db
	cd $(SUBGRAPH) && .venv/bin/mypy member_development

schema: $(STAMP)
	$(BIN)/pilotgraph schema export

clean:
	rm -rf $(VENV) var .cache
