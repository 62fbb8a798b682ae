# The two commands: `make run` (demo gateway on SQLite) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUBGRAPH := subgraphs/member_development
SUBGRAPH_STAMP := $(SUBGRAPH)/.venv/.installed
FEDERATION_STAMP := federation/node_modules/.installed
CONSOLE_DIST := gateway/console/static/index.html
# Hashed lockfiles (`make lock` regenerates them from the pyproject.toml files): every install
# gets exactly these versions, and pip refuses a download whose hash differs.
LOCK_RUNTIME := requirements/runtime.txt
LOCK_DEV := requirements/dev.txt
LOCK_SUBGRAPH := requirements/member-development.txt
UV_VERSION := 0.13.9
UV := .cache/uv/bin/uv
# Pins already in a lockfile are kept unless pyproject.toml rules them out; `make lock
# LOCK_FLAGS=--upgrade` moves everything to the newest versions in range.
LOCK_FLAGS ?=
UV_COMPILE = $(UV) pip compile --quiet --generate-hashes --python-version 3.11 --universal \
	--custom-compile-command "make lock" $(LOCK_FLAGS)

.PHONY: run test lint schema clean federation-deps run-federated lock

# Re-installs whenever the lockfile changes; the project itself adds no dependency of its own.
$(STAMP): pyproject.toml $(LOCK_DEV)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK_DEV)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The member-development subgraph has its own virtualenv (graphql-core 3.2 vs strawberry's 3.3).
$(SUBGRAPH_STAMP): $(SUBGRAPH)/pyproject.toml $(LOCK_SUBGRAPH)
	test -x $(SUBGRAPH)/.venv/bin/python || $(PYTHON) -m venv $(SUBGRAPH)/.venv
	$(SUBGRAPH)/.venv/bin/python -m pip install --quiet --require-hashes -r $(LOCK_SUBGRAPH)
	$(SUBGRAPH)/.venv/bin/python -m pip install --quiet --no-deps -e '$(SUBGRAPH)'
	touch $(SUBGRAPH_STAMP)

$(UV):
	$(PYTHON) -m venv .cache/uv
	.cache/uv/bin/python -m pip install --quiet uv==$(UV_VERSION)

# Resolve again from PyPI. The dev lock is constrained to the runtime lock, so the tests run
# the versions the image ships.
lock: $(UV)
	$(UV_COMPILE) pyproject.toml -o $(LOCK_RUNTIME)
	$(UV_COMPILE) pyproject.toml --extra dev -c $(LOCK_RUNTIME) -o $(LOCK_DEV)
	$(UV_COMPILE) $(SUBGRAPH)/pyproject.toml --extra dev -o $(LOCK_SUBGRAPH)

$(FEDERATION_STAMP): federation/package.json federation/package-lock.json
	npm ci --prefix federation --no-audit --no-fund --silent
	touch $(FEDERATION_STAMP)

federation-deps: $(SUBGRAPH_STAMP) $(FEDERATION_STAMP)

# The admin console (/admin): Chart.js and GraphiQL from npm, copied with the page into
# gateway/console/static, package data of the gateway (a wheel carries it); its build validates the
# console's trusted documents with the gateway's schema, hence the virtualenv.
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
	$(BIN)/mypy gateway planner tenants schema rollout adoption db
	cd $(SUBGRAPH) && .venv/bin/mypy member_development

schema: $(STAMP)
	$(BIN)/pilotgraph schema export

clean:
	rm -rf $(VENV) var .cache
