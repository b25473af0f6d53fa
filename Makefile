# The two commands of the README:
#   make demo   set everything up, then run the main job on the embedded default
#   make test   set everything up (Java/Maven-fetched Neo4j + GDS included), then run every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-fast bench clean-cache

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	@touch $@

demo: setup
	$(BIN)/bellwether demo

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not neo4j"

bench: setup
	$(BIN)/python -m bench

clean-cache:
	rm -rf .cache
