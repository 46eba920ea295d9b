# Quick start: `make run` (set-up + the whole study on the synthetic registry)
# and `make test` (set-up + the whole test suite). Both need only Python 3.11+.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= demo
CORES  ?= 2
SNAKEMAKE := $(BIN)/snakemake --cores $(CORES) --config 'synthetic={scale: $(SCALE)}'

.PHONY: help setup run test lint dag clean montecarlo api-docs

help:
	@echo "make run [SCALE=tiny|demo|national]  set up, run the whole study, render the reports"
	@echo "make test                            set up, lint, run the whole test suite"
	@echo "make dag                             show the pipeline's jobs without running them"
	@echo "make api-docs                        regenerate docs/api.md from the docstrings (the tests fail when it is stale)"
	@echo "make montecarlo [REPS=200]           design validation over four scenarios of planted effects (constant,"
	@echo "                                     growing, none, by life phase): bias, RMSE, coverage ->"
	@echo "                                     docs/design-validation.md (about 25 s per replication and core)"
	@echo "make bench [SCALES=demo]             benchmarks: estimators vs peers, pipeline steps at demo and national"
	@echo "                                     scales (or SCALES) -> bench/results.md, and where ATT(g,t)'s time goes"
	@echo "                                     -> bench/profile-att-gt.md; run on a quiet machine"
	@echo "make clean                           remove outputs (keeps .venv)"

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed (found %s)" % sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	$(SNAKEMAKE)
	@echo
	@echo "Start page (open it in a browser; works offline): $(CURDIR)/reports/_output/index.html"
	@echo "Reports written to:"
	@ls -1 $(CURDIR)/reports/_output/interim* $(CURDIR)/reports/_output/final* 2>/dev/null | sed 's/^/  /'
	@echo "  and $$(ls $(CURDIR)/reports/_output/factsheet-* 2>/dev/null | wc -l) municipal factsheet files in $(CURDIR)/reports/_output/"

dag: setup
	$(SNAKEMAKE) -n

lint: setup
	$(BIN)/ruff check src tests workflow/scripts
	$(BIN)/ruff format --check src tests workflow/scripts
	$(BIN)/snakefmt --check Snakefile workflow/rules
# snakemake --lint runs in tests/test_workflow_lint.py, which lets one lint through and says why.

test: setup lint
	$(BIN)/pytest

api-docs: setup
	$(BIN)/python -m evaluation.api_docs

REPS   ?= 200

montecarlo: setup
	$(BIN)/snakemake --cores $(CORES) results/montecarlo/summary.csv --config 'montecarlo={replications: $(REPS)}'
	cp results/montecarlo/summary.md docs/design-validation.md

# Benchmarks: the peers (bench/requirements.txt) live in their own venv, never in $(VENV).
BENCH_VENV   := .venv-bench
BENCH_STAMP  := $(BENCH_VENV)/.installed
SCALES       ?= demo national
BENCH_REPEAT ?= 5
PIP_QUIET    := --quiet --disable-pip-version-check

$(BENCH_STAMP): requirements.lock pyproject.toml bench/requirements.txt
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install $(PIP_QUIET) -r requirements.lock
	$(BENCH_VENV)/bin/python -m pip install $(PIP_QUIET) --no-deps -e .
	$(BENCH_VENV)/bin/python -m pip install $(PIP_QUIET) -r bench/requirements.txt -c requirements.lock
	@touch $@

.PHONY: bench
bench: setup $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/run.py --scales $(SCALES) --repeat $(BENCH_REPEAT) --cores $(CORES) --snakemake $(BIN)/snakemake
	$(BENCH_VENV)/bin/python bench/profile_att_gt.py --repeat $(BENCH_REPEAT)

clean:
	rm -rf data/interim results logs benchmarks reports/_output reports/_generated reports/_variables.yml .snakemake data/raw/synthetic
