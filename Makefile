# keysweep — the two quick-start targets are `make scan` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# the labelled corpus: real package contents, fetched once into a cache outside the checkout
CORPUS_STAMP := $(VENV)/.corpus-fetched

.PHONY: scan test lint typecheck check clean readme

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

$(CORPUS_STAMP): tests/corpus/packages.txt
	$(BIN)/python tests/corpus/fetch.py
	mkdir -p $(dir $@) && touch $@

## Scan this repository and write keysweep.sarif (first quick-start command).
scan: $(STAMP)
	$(BIN)/keysweep scan . --sarif keysweep.sarif

## Set up everything the tests need and run them (second quick-start command; CI runs this).
test: $(STAMP) $(NODE_STAMP) $(CORPUS_STAMP)
	$(BIN)/ruff check scanner tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check scanner tests bench scripts
	$(BIN)/ruff format --check scanner tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache keysweep.sarif

## Regenerate the rule table embedded in README.md.
readme: $(STAMP)
	$(BIN)/python scripts/update_readme.py
