# Every target bootstraps .venv from a fresh clone when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-sql demo-basics shell test test-clients lint format bench serve node-clients clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The microservices showcase (examples/microservices) on the embedded engine.
demo: $(STAMP)
	$(BIN)/python -m examples.microservices.showcase

# The same showcase as a SQL script. Its pause is a live query that ends by itself; the
# timeout only bounds it should the events it waits for never come.
demo-sql: $(STAMP)
	$(BIN)/queryleaf --timeout 15 examples/microservices/showcase.sql

# SQL basics: queries, joins, grouping and writes on a small shop.
demo-basics: $(STAMP)
	$(BIN)/queryleaf examples/demo.sql

# The interactive shell on a fresh embedded engine (ARGS="--uri mongodb://..." for a server).
shell: $(STAMP)
	@$(BIN)/queryleaf $(ARGS)

# The second pass runs the database-facing tests again through pymongo against `queryleaf serve`
# (tests/server_pass.py starts the server on a free port and stops it).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q
	$(BIN)/python -m tests.server_pass

# Independent clients for the server's tests: the node `mongodb` driver and mongosh, installed
# into clients/node (tests/test_server_node.py skips without them, and fails under CI=true);
# also @queryleaf/lib, the TypeScript QueryLeaf bench/translate.py compares with.
node-clients: clients/node/node_modules/.installed

clients/node/node_modules/.installed: clients/node/package.json clients/node/package-lock.json
	cd clients/node && npm ci --no-audit --no-fund
	touch $@

# The local server (MongoDB wire protocol, durable on disk); see docs/server.md.
serve: $(STAMP)
	$(BIN)/queryleaf serve $(SERVE_ARGS)

# pgjdbc and node-postgres against the PostgreSQL protocol (tests/clients). Needs Debian
# default-jdk-headless and libpostgresql-jdbc-java; node's pg is installed into .clients/.
test-clients: $(STAMP)
	test -d .clients/node_modules/pg || npm install --silent --no-audit --no-fund --prefix .clients pg@8
	QUERYLEAF_CLIENT_TESTS=1 $(BIN)/python -m pytest -q tests/clients

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# With npm, the TypeScript QueryLeaf baseline of bench/translate.py is installed first.
bench: $(STAMP)
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory node-clients; \
	else echo "npm not found: bench/translate.py cannot time the TypeScript QueryLeaf"; fi
	$(BIN)/python bench/translate.py
	$(BIN)/python bench/execute.py
	$(BIN)/python bench/runtime.py
	$(BIN)/python bench/server.py
	$(BIN)/python bench/pgwire.py
	$(BIN)/python bench/showcase_queries.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache clients/node/node_modules
