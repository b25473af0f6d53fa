# The two commands of the README:
#   make demo   set everything up, then run the main job on the embedded default
#   make test   set everything up (Java/Maven-fetched Neo4j + GDS included), then run every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-fast bench clean-cache neo4j-fetch

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,bench]'
	@touch $@

demo: setup
	$(BIN)/bellwether demo

test: setup neo4j-fetch
	-./scripts/install-chromium  # headless browser for tests/algorithms/test_report_browser.py (skipped locally if this fails)
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not neo4j and not spark"

# Neo4j 5.26 + OpenGDS jars from Maven Central into .cache/neo4j-home (needs Java 17 + Maven; offline once fetched)
neo4j-fetch:
	@if command -v java >/dev/null && command -v mvn >/dev/null; then scripts/neo4j-server fetch; \
	else echo "neo4j-fetch: Java 17 or Maven missing; Neo4j tests will be skipped (CI fails instead)"; \
	     test "$${CI:-}" != "true"; fi

bench: setup
	$(BIN)/python -m bench

clean-cache:
	rm -rf .cache
