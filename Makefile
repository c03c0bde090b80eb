# Entry points that work on a fresh machine with Python 3.11 (or 3.12) and make:
#   make demo   evaluate the bundled example contracts
#   make test   run the whole test suite
#   make lint   ruff check, mypy, ruff format --check (configured in pyproject.toml)
#   make wheel-smoke   build the wheel + sdist, install the wheel in a fresh venv, try it
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test lint venv clean wheel-smoke

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m contractrules.demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/ruff format --check .

wheel-smoke: $(STAMP)
	tests/wheel_smoke.sh $(BIN)/python

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache build dist .ci-wheels
