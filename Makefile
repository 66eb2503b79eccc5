# Every target sets up .venv itself; `make demo` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck unit bench compat clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/reelrank demo

lint: install
	$(BIN)/ruff check src tests benchmarks

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest

test: lint typecheck unit

bench: install
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/import_throughput.py --write-docs
	$(BIN)/python benchmarks/accuracy.py --write-docs
	$(BIN)/python benchmarks/context.py --write-docs
	$(BIN)/python benchmarks/batch.py --write-docs
	$(BIN)/python benchmarks/console.py --write-docs

compat: install
	$(BIN)/python -m reelrank.compat

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
