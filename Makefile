# Two commands: `make run` (the bot; console chat on SQLite when no token is set) and
# `make test` (the test suite). Both create .venv and install what they need first.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python -m bot

test: $(STAMP)
	$(VENV)/bin/python -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy bot handlers models scheduler.py

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/engine.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
