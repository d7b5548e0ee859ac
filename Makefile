# posthoc: `make book` builds the executed book, `make test` runs the tests.
# Both create .venv at the repository root when it is missing and install the pinned
# dependencies into it (torch 2.13.0 CPU first, so that nothing pulls a CUDA build).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The book is the paper's: it reads the committed paper-scale results and networks, and
# computes nothing of the study. PROFILE=quick computes everything at reduced scale.
PROFILE ?= paper
# `make chapter` re-executes a chapter with other values, which computes their cells: at the
# quick profile unless PROFILE is given (at the paper's scale a selection can take hours).
CHAPTER_PROFILE := $(if $(filter file,$(origin PROFILE)),quick,$(PROFILE))
# The chapters' sources in execution order, from their records (posthoc.repro.chapters),
# asked of the installed package when a recipe needs them; `make html` writes _toc.yml, in
# reading order, from the same records.
NOTEBOOKS = $(shell $(PY) -m posthoc.repro.chapters sources)
WHEEL_DIR := _build/wheel
# The math renderer bundled with the book (package.json pins it), copied where Sphinx serves
# static files, so that every formula renders with no network.
MATHJAX := _build/assets/mathjax/tex-chtml.js
# The network cache's state when make started (empty on a fresh machine); each chapter's
# recorded time is labelled with it (posthoc.repro.book.CACHE_STATES). Sub-makes inherit it.
ifeq ($(origin CACHES),undefined)
CACHES := $(shell d="$${POSTHOC_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/posthoc/networks}"; \
  if [ -n "$$(ls -A "$$d" 2>/dev/null)" ]; then echo warm; else echo empty; fi)
endif
export CACHES
# The processor-independent numerics of posthoc.numerics (MKL's COMPATIBLE branch, torch's AVX2
# kernels where the processor has AVX2), for every program make starts, so that a network
# trained here is the network trained on another x86-64 processor of the same vendor.
export MKL_CBWR ?= COMPATIBLE
ifneq ($(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && echo yes),)
export ATEN_CPU_CAPABILITY ?= avx2
endif
# Debian's Chromium, driven by Playwright, opens the built book in make test.
CHROMIUM := /usr/bin/chromium

.PHONY: help install data book notebooks html test unit nbval nbval-rerun matrix browser wheel bench study \
  chapter clean book-checks quick-results

help:
	@echo "make book      install, get the data, execute every notebook (PROFILE=$(PROFILE)), build _build/html"
	@echo "make test      install, run the unit tests, execute the quick chapters and check them with nbval,"
	@echo "               build their HTML and open every page in headless Chromium, the wheel check"
	@echo "make bench     run the speed benchmarks (python -m posthoc.repro.bench)"
	@echo "make study     run the study grid (PROFILE=$(PROFILE)) into results/$(PROFILE), resumable"
	@echo "make chapter NAME=main_comparison ARGS='-p lam 0.5 -y \"configs: [compas-race]\"'"
	@echo "               re-execute one chapter with other parameters (PROFILE=$(CHAPTER_PROFILE))"
	@echo "make data      download and verify the raw data (POSTHOC_DATA or ~/.cache/posthoc/data)"
	@echo "make quick-results  recompute the committed quick results (cells and tables) from scratch"

$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e . || \
	  $(PY) -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

data: install
	$(PY) -m posthoc data

# Fill the network cache from the networks committed with the profile's results, then
# execute each jupytext source with papermill into book/.
notebooks: install data
	@mkdir -p _build/src book
	$(PY) -m posthoc.repro.network_store fill --profile $(PROFILE)
	@for src in $(NOTEBOOKS); do \
	  name=$$(basename $$src .py); \
	  echo "executing $$name (profile $(PROFILE))"; start=$$(date +%s); \
	  $(VENV)/bin/jupytext --quiet --to ipynb --output _build/src/$$name.ipynb $$src; \
	  $(VENV)/bin/papermill --no-progress-bar --log-level WARNING -k python3 \
	    -p profile $(PROFILE) _build/src/$$name.ipynb book/$$name.ipynb; \
	  $(PY) -m posthoc.repro.book --profile $(PROFILE) --caches $(CACHES) book/$$name.ipynb; \
	  echo "$$name: $$(( $$(date +%s) - start )) s"; \
	done

$(MATHJAX): package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	rm -rf _build/assets/mathjax && mkdir -p _build/assets/mathjax/output/chtml
	cp node_modules/mathjax/es5/tex-chtml.js _build/assets/mathjax/
	cp -r node_modules/mathjax/es5/output/chtml/fonts _build/assets/mathjax/output/chtml/

$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null

html: install $(MATHJAX)
	mkdir -p book/downloads
	$(PY) -m posthoc.repro.chapters toc > _toc.yml
	$(VENV)/bin/jupyter-book build --warningiserror --keep-going --path-output . .
	@echo "book: _build/html/index.html"

book: notebooks html

unit: install
	$(PY) -m pytest -q -n auto --durations=15 --doctest-modules --ignore tests/browser --ignore tests/matrix \
	  tests posthoc

# nbval executes the quick chapters into book/ (as `make book PROFILE=quick` does), re-runs
# each one and compares every output.
nbval: install data
	$(MAKE) --no-print-directory notebooks PROFILE=quick
	$(MAKE) --no-print-directory nbval-rerun

nbval-rerun:
	$(PY) -m pytest -q -p no:cacheprovider --nbval --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg \
	  $(patsubst notebooks/%.py,book/%.ipynb,$(NOTEBOOKS))

# Every chapter re-executed with other values its parameters cell documents (quick profile,
# on the network cache the quick chapters filled and a copy of their results store).
matrix: install data
	$(PY) -m pytest -q -p no:cacheprovider tests/matrix

# Re-execute one chapter with other parameters: the executed notebook goes to _build/chapters/.
chapter: install data
	$(PY) -m posthoc.repro.network_store fill --profile $(CHAPTER_PROFILE)
	$(PY) -m posthoc.repro.run_chapter $(NAME) --profile $(CHAPTER_PROFILE) $(ARGS)

# Build the HTML of the executed chapters in book/ and open every page in headless Chromium:
# tables and figures within the column, formulas rendered, images loaded, no console error,
# no glue left unset; a screenshot of each page goes to _build/screenshots/.
browser: install $(CHROMIUM)
	$(MAKE) --no-print-directory html
	$(PY) -m pytest -q -p no:cacheprovider tests/browser --book _build/html

# Build the wheel (failing on any deprecation warning of the build), install it into a
# throwaway venv that sees the project venv's packages, and use it from outside the checkout.
wheel: install
	rm -rf $(WHEEL_DIR) && mkdir -p $(WHEEL_DIR)
	$(PY) -m pip wheel --no-deps --no-build-isolation --wheel-dir $(WHEEL_DIR)/dist . \
	  > $(WHEEL_DIR)/build.log 2>&1 || { cat $(WHEEL_DIR)/build.log; exit 1; }
	! grep -i "deprecat" $(WHEEL_DIR)/build.log
	$(PY) -m venv $(WHEEL_DIR)/venv
	$(PY) -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" \
	  > $$($(WHEEL_DIR)/venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/project-venv.pth
	$(WHEEL_DIR)/venv/bin/python -m pip install --quiet --no-deps --no-index $(WHEEL_DIR)/dist/posthoc-*.whl
	cd $(WHEEL_DIR) && venv/bin/python $(CURDIR)/tests/packaging/check_wheel.py venv
	cd $(WHEEL_DIR) && venv/bin/posthoc --help | grep -q "posthoc debias"

# The unit tests run beside the book's chain, two jobs at a time: the chain spends long
# stretches on one core (kernels starting, tables computed in one process, Sphinx), which the
# other job fills. The chain executes the quick chapters, then runs their checks side by
# side: nbval's second execution, the parameter matrix (on a copy of the results store) and
# the browser check. Everything they share is installed first; each line of output is
# written whole.
test: install data $(CHROMIUM) $(MATHJAX)
	$(MAKE) --no-print-directory -j2 --output-sync=line unit book-checks
	$(MAKE) --no-print-directory wheel

book-checks:
	$(MAKE) --no-print-directory notebooks PROFILE=quick
	$(MAKE) --no-print-directory nbval-rerun matrix browser

# The quick profile's results are committed (results/quick: its cells packed, its tables), so
# that the quick chapters read them; after a change to the code its cells run (the unit tests
# say so), this recomputes them from scratch with the committed networks and packs them (a
# table under a new name is committed with git add -f: other selections' tables are ignored).
quick-results: install data
	rm -rf results/quick/*.parquet results/quick/runs.jsonl results/quick/tables results/quick/locks
	$(MAKE) --no-print-directory notebooks PROFILE=quick
	$(PY) -c "from posthoc.repro.store import ResultStore; \
	  print(ResultStore('results/quick').compact(), 'cells packed into results/quick')"

bench: install
	$(PY) -m posthoc.repro.bench

study: install data
	$(PY) -m posthoc.repro.network_store fill --profile $(PROFILE)
	$(PY) -m posthoc.repro.study --profile $(PROFILE)

clean:
	rm -rf _build node_modules
