# kommunelab — the front door. Every target bootstraps .venv itself.
#   make reports   build every report (default variants) into reports/
#   make test      run the test suite
#   make lab       start JupyterLab with the project's kernel
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# JOBS=N sets the number of worker processes (default: one per core)
JOBS   ?=
JOBS_FLAG := $(if $(JOBS),--jobs $(JOBS))
# The offline data mirror is set in reports.toml ([data] mirror); KOMMUNELAB_DATA_MIRROR overrides it.

.PHONY: help setup chromium reports reports-all test test-fast lab bench lock synthetic clean

help:
	@echo "make reports      build every report (default parameters) as HTML + PDF into reports/"
	@echo "make reports-all  also build every variant of the parameter grids (98 municipality profiles, ...)"
	@echo "make test         run the tests"
	@echo "make lab          start JupyterLab with the kommunelab kernel"
	@echo "make bench        run the benchmarks in bench/"
	@echo "make synthetic    regenerate the synthetic survey stand-ins in data/synthetic/"
	@echo "make clean        remove reports/ output and caches (keeps .venv)"

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	$(BIN)/python -c "from kommunelab.execute import ensure_kernel; ensure_kernel()"
	@# Notebooks are committed without outputs: a git filter (nbstripout) strips them on `git add`.
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  $(BIN)/nbstripout --install --attributes .gitattributes; fi
	@touch $(STAMP)

setup: $(STAMP) chromium

chromium: $(STAMP)
	@$(BIN)/python -m kommunelab.chromium --ensure

reports: setup
	$(BIN)/kommunelab build $(JOBS_FLAG)

reports-all: setup
	$(BIN)/kommunelab build --all-variants $(JOBS_FLAG)

test: setup
	$(BIN)/ruff check lib tests bench notebooks
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

# JupyterLab on this machine only (127.0.0.1); as root (a container) it needs --allow-root.
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 $(if $(filter 0,$(shell id -u)),--allow-root)

bench: setup
	$(BIN)/python bench/run.py

synthetic: $(STAMP)
	$(BIN)/kommunelab synthetic

lock: $(STAMP)
	@{ echo "# Pinned versions of every package in the environment (pip constraints file)."; \
	   echo "# Regenerate after changing dependencies: make lock"; \
	   $(BIN)/python -m pip freeze --exclude-editable | grep -v '^kommunelab'; } > requirements.lock

clean:
	rm -rf reports/*/ reports/index.html reports/build.json reports/findings.json reports/.tmp .pytest_cache
