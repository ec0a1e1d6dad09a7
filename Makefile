# Two commands for a fresh machine:  `make demo` (the main job on the bundled corpus) and `make test`.
# Both create or reuse the virtual environment in .venv and install everything into it.

VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.authorid-installed
export HF_HUB_OFFLINE = 1
export TRANSFORMERS_OFFLINE = 1
export TOKENIZERS_PARALLELISM = false
# OpenMP threads sleep rather than spin while they wait: on cores shared with other jobs spinning threads
# fight them (a demo training step took 10 s instead of 3.3 s under load).
export OMP_WAIT_POLICY = PASSIVE

.PHONY: setup demo test test-slow test-all lint bench benchmarks-md clean-runs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned: a CPU wheel of exactly this version is on this machine; an unpinned torch pulls CUDA.
	$(PY) -m pip install --quiet torch==2.13.0
	# The benchmark peers (bitig, LambdaG) and Ray are in the test environment so their wrappers and the
	# --engine ray paths are tested too; they are optional extras, not runtime dependencies of authorid.
	$(PY) -m pip install --quiet -e ".[dev,bench,ray]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/authorid demo --out runs/demo

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

test-all: $(STAMP)
	$(PY) -m pytest -q

# The benchmarks of BENCHMARKS.md on this machine (about 100 minutes on 2 cores), then the page itself.
bench: $(STAMP)
	$(PY) scripts/bench_quality.py --profile cpu
	$(PY) scripts/bench_speed.py
	$(PY) scripts/bench_attribution.py
	$(PY) scripts/make_benchmarks_md.py

benchmarks-md: $(STAMP)
	$(PY) scripts/make_benchmarks_md.py

lint: $(STAMP)
	$(VENV)/bin/ruff check authorid tests scripts
	$(VENV)/bin/ruff format --check authorid tests scripts

clean-runs:
	rm -rf runs/demo
