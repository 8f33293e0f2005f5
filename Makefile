# Two entry points for people: `make demo` and `make test`. Everything else is a step.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
AUDIT := $(BIN)/audit
RUN_ID ?= demo
JOBS ?=

.PHONY: help setup system-deps demo test lint format bench clean
.DEFAULT_GOAL := help

# The targets a person runs carry a `## ` description after their prerequisites; `make help` lists them.
help: ## list the targets and what each does
	@awk -F':.*## ' '/^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The benchmark peers (Great Expectations, pyinstrument): the test suite smoke-tests the benchmarks.
$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

system-deps: ## install Chromium, the CJK fonts and other Debian packages (apt)
	bash scripts/install-system-deps.sh

setup: system-deps $(VENV)/.installed ## create .venv with the package and its dev tools

# Generate the bundled demo submission, ingest it, audit every county, render every report.
# A second `make demo` resumes the run: jobs whose inputs did not change are kept.
demo: setup ## generate the demo submission, ingest it, audit every county (RUN_ID=demo, JOBS=N)
	$(AUDIT) demo --out outputs/demo-submission
	$(AUDIT) ingest outputs/demo-submission --store outputs/demo-store
	$(AUDIT) batch --store outputs/demo-store --params params/lhasa-2020.yaml --out outputs --run-id $(RUN_ID) \
		$(if $(JOBS),--jobs $(JOBS)) $(if $(wildcard outputs/$(RUN_ID)/.),--resume)
	@echo "Reports: outputs/$(RUN_ID)/index.html"

lint: $(VENV)/.installed ## ruff: lint and check the formatting
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks

format: $(VENV)/.installed ## ruff: format and fix what it can
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

test: setup $(VENV)/.bench-installed lint ## lint, then the whole test suite on 2 cores
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: setup $(VENV)/.bench-installed ## measure speed and memory against the peers; writes benchmarks/RESULTS.md
	$(BIN)/python -m benchmarks

clean: ## remove .venv, the run folders under outputs/ and the caches
	rm -rf $(VENV) outputs/*/ .pytest_cache .ruff_cache
