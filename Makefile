# rbgia: the two commands are `make book` and `make test`. Both bootstrap .venv from
# pyproject.toml (pinned versions) on a fresh clone, so nothing is installed by hand.
#   TF=cpu (default) installs tensorflow-cpu; TF=gpu installs tensorflow[and-cuda].
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV ?= .venv
TF ?= cpu
PY := $(VENV)/bin/python
STAMP := $(VENV)/.rbgia-installed-$(TF)
DATA_DIR ?= data/simulated
RESULTS_DIR ?= results
PYTEST_ARGS ?=
# The one engine: Snakemake runs the book's jobs and chapters (workflow/Snakefile, book/parameters.yml).
PROFILE ?= local
SNAKEMAKE = $(PY) -m snakemake --profile workflow/profiles/$(PROFILE)
SNAKEMAKE_ARGS ?=

export TF_CPP_MIN_LOG_LEVEL ?= 2
export KERAS_BACKEND := tensorflow
export PYTHONHASHSEED := 0

.PHONY: all env data notebooks book book-check book-dry-run book-paper test bench workflow clean help

all: book

help:
	@echo "make book   - set up .venv, simulate the default data, run the book's DAG (Snakemake), build _build/html"
	@echo "make book-dry-run - list the book's jobs and chapters (snakemake -n)"
	@echo "make book-paper PROFILE=slurm - the whole book at paper scale over every experiment (workflow/config.paper.yaml)"
	@echo "make workflow DATA_DIR=... - every experiment of a data folder (workflow/config.scaleout.yaml)"
	@echo "make book-check - open every page of _build/html in headless Chromium (network off): screenshots, problems"
	@echo "make test   - set up .venv, run the test suite (what .ci/run calls)"
	@echo "make bench  - run the training and GIA benchmarks (prints JSON)"
	@echo "options: TF=gpu for a CUDA TensorFlow, PYTHON=/path/to/python3.11"

env: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[$(TF),book,workflow,dev]'
	@rm -f $(VENV)/.rbgia-installed-*
	@touch $@

data: env
	$(PY) -m rbgia.simulate $(DATA_DIR)

notebooks: data
	$(SNAKEMAKE) $(SNAKEMAKE_ARGS) --config results_dir=$(RESULTS_DIR)

book-dry-run: env
	$(SNAKEMAKE) -n $(SNAKEMAKE_ARGS) --config results_dir=$(RESULTS_DIR)

book-paper: data
	$(SNAKEMAKE) --configfile workflow/config.paper.yaml $(SNAKEMAKE_ARGS)
	$(PY) -m rbgia.book build

book: notebooks
	$(PY) -m rbgia.book build

book-check: env
	$(PY) -m rbgia.book.site check _build/html

test: env
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: data
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_gia.py
	$(PY) benchmarks/bench_adaptive.py --data-dir $(DATA_DIR) --results-dir $(RESULTS_DIR)
	$(PY) benchmarks/bench_controls.py

workflow: data
	$(SNAKEMAKE) --configfile workflow/config.scaleout.yaml $(SNAKEMAKE_ARGS) $(WORKFLOW_ARGS) \
		--config data_dir=$(DATA_DIR) results_dir=$(RESULTS_DIR)

clean:
	rm -rf _build results notebooks/executed
