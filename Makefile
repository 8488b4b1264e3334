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
# The reference data are the project's snapshot in data/reference/; KOMMUNELAB_DATA_MIRROR names a folder to read instead.

.PHONY: help setup install-venv chromium reports reports-all test test-fast lab bench mutation lock synthetic clean \
	translations

help:
	@echo "make reports      build every report (default parameters) as HTML + PDF into reports/"
	@echo "make reports-all  also build every variant of the parameter grids (98 municipality profiles, ...)"
	@echo "make test         run the tests"
	@echo "make lab          start JupyterLab with the kommunelab kernel"
	@echo "make bench        run the benchmarks in bench/"
	@echo "make mutation     apply one-line bugs to the statistics and analysis code; report the tests' kill rate"
	@echo "make synthetic    regenerate the synthetic survey stand-ins in data/synthetic/"
	@echo "make translations extract the reader-facing messages, update the catalogs (.po), compile them"
	@echo "make clean        remove reports/ output and caches (keeps .venv)"

# The environment is installed from hashed locks only (pip --require-hashes): requirements-dev.lock (runtime and
# development) here, requirements.lock (runtime alone) for machines that only build, such as Dask workers. Regenerate
# both with `make lock` after changing pyproject.toml. A lock on .venv keeps two setups at once from mixing.
$(STAMP): pyproject.toml requirements.lock requirements-dev.lock
	@$(if $(shell command -v flock),flock $(VENV).lock) $(MAKE) --no-print-directory install-venv

install-venv:
	@test -f $(STAMP) && test $(STAMP) -nt requirements-dev.lock && test $(STAMP) -nt pyproject.toml || { \
	  test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
	    -r requirements-dev.lock && \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . && \
	  $(BIN)/python -c "from kommunelab.engine.run.execute import ensure_kernel; ensure_kernel()" && \
	  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    $(BIN)/nbstripout --install --attributes .gitattributes && git status --porcelain >/dev/null; fi && \
	  touch $(STAMP); }
	@# (git status once: it runs the notebooks' new clean filter now, not in the first build's revision lookup)

setup: $(STAMP) chromium

chromium: $(STAMP)
	@$(BIN)/python -m kommunelab.chromium --ensure

reports: setup
	$(BIN)/kommunelab build $(JOBS_FLAG)

reports-all: setup
	$(BIN)/kommunelab build --all-variants $(JOBS_FLAG)

translations: $(STAMP)
	$(BIN)/kommunelab translations

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

mutation: $(STAMP)
	$(BIN)/python bench/mutation.py

synthetic: $(STAMP)
	$(BIN)/kommunelab synthetic

lock: $(STAMP)
	@printf 'setuptools>=77\n' > .lock-build.in
	$(BIN)/uv pip compile pyproject.toml .lock-build.in --extra dev --generate-hashes --python-version 3.11.7 \
	  --custom-compile-command "make lock" -c requirements-dev.lock -o requirements-dev.lock
	$(BIN)/uv pip compile pyproject.toml .lock-build.in --generate-hashes --python-version 3.11.7 \
	  --custom-compile-command "make lock" -c requirements-dev.lock -o requirements.lock
	@rm -f .lock-build.in

clean:
	rm -rf reports/*/ reports/index.html reports/build.json reports/findings.json reports/.tmp .pytest_cache
