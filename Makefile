# Two commands set everything up on a machine with Python 3.11+ and make:
#   make run    install into .venv and run the baseline job
#   make test   install with the dev extra and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet

.PHONY: run annual test test-fast notebooks notebooks-check bench lint clean help
.DEFAULT_GOAL := help

help:
	@echo "make run    - install into $(VENV) and run the main job"
	@echo "make annual YEAR=2027 [FORMS='a.xlsx b.xlsx'] [PREVIOUS=outputs/annual-baseline-2026/forecast-...] - the yearly cycle"
	@echo "make test   - install with the dev extra and run the test suite (all tiers, 2 processes)"
	@echo "make test-fast - the same without the end-to-end tier (CLI subprocesses, browser, notebooks, Dask)"
	@echo "make notebooks - install JupyterLab (the notebooks extra) and open notebooks/ in it"
	@echo "make notebooks-check - run every notebook top to bottom on a fresh kernel, headless (tests/test_notebooks.py)"
	@echo "make bench  - run the benchmarks (prints figures; not part of the tests; the programme's: PROGRAMME_BENCH_ARGS)"
	@echo "make lint   - ruff"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev]'
	@touch $@ $(VENV)/.installed

$(VENV)/.installed-notebooks: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[notebooks]'
	@touch $@ $(VENV)/.installed

# the sensitivity first, so that the forecast's report says which estimates decide its headline
run: $(VENV)/.installed
	$(BIN)/siteplan sensitivity scenarios/baseline.yaml --out outputs
	$(BIN)/siteplan forecast scenarios/baseline.yaml --out outputs \
	    --sensitivity "$$(ls -d outputs/sensitivity-baseline-* | tail -n 1)"

# the planning office's yearly cycle: demand-survey forms in, the list checked, the sensitivity, the
# forecast against last year's run and the public bundle, in outputs/annual-baseline-YEAR
YEAR ?=
FORMS ?=
PREVIOUS ?=
annual: $(VENV)/.installed
	@test -n "$(YEAR)" || { echo "give the year of the cycle: make annual YEAR=2027"; exit 2; }
	$(BIN)/siteplan annual baseline --year $(YEAR) --out outputs \
	    $(foreach f,$(FORMS),--form $(f)) $(if $(PREVIOUS),--previous $(PREVIOUS))

# two processes (the machine has two cores); a module's tests stay in one process, so that its
# fixtures (a solved run) are made once; the 25 slowest tests are listed at the end
PYTEST := $(BIN)/python -m pytest -n 2 --dist loadfile --durations=25

test: $(VENV)/.installed-dev
	$(PYTEST)

test-fast: $(VENV)/.installed-dev
	$(PYTEST) -m "not e2e"

notebooks: $(VENV)/.installed-notebooks
	$(BIN)/jupyter lab --notebook-dir=notebooks

notebooks-check: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests/test_notebooks.py

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/programme.py $(PROGRAMME_BENCH_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
