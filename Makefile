# The two commands of the README: `make demo` and `make test`.
# Each (re)creates .venv from pyproject.toml when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.xwb-installed
export HF_HUB_OFFLINE := 1
export NO_ALBUMENTATIONS_UPDATE := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test test-all lint bench venv clean-venv fresh-check

venv: $(STAMP)

$(STAMP): pyproject.toml
	@echo "== setting up $(VENV) from pyproject.toml (first time: a few minutes)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip || true
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Two workers on two cores (pytest-xdist), a file per worker at a time so that a module's shared fixtures
# (trained projects, registered versions) are built once; the 25 slowest tests are listed at the end.
WORKERS ?= 2
PYTEST := QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n $(WORKERS) --dist loadfile --durations=25

test: $(STAMP)
	$(PYTEST) $(PYTEST_ARGS)

test-all: $(STAMP)
	$(PYTEST) -m '' $(PYTEST_ARGS)

# what .ci/run checks besides the tests: ruff (rules in pyproject.toml) and mypy (its ignore list only shrinks)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

demo: $(STAMP)
	$(PY) -m workbench.demo $(DEMO_ARGS)

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f $(BENCH_ARGS) || exit 1; done

clean-venv:
	rm -rf $(VENV)

# The newcomer's path, for real: a fresh clone in a new folder (committed files only, no venv, no demo
# state), then `make demo` and `make test` there, with their times. Not part of CI (it takes ~10 minutes).
fresh-check:
	@set -e; tmp=$$(mktemp -d /tmp/xwb-fresh.XXXXXX); \
	git clone -q "$(CURDIR)" "$$tmp/xwb"; cd "$$tmp/xwb"; \
	echo "== fresh clone in $$tmp/xwb ($$(git rev-parse --short HEAD))"; \
	s=$$(date +%s); env -u DISPLAY -u WAYLAND_DISPLAY $(MAKE) --no-print-directory demo; d=$$(date +%s); \
	$(MAKE) --no-print-directory test; e=$$(date +%s); \
	echo "== fresh-check passed: make demo $$((d - s)) s (venv set-up included), make test $$((e - d)) s"; \
	rm -rf "$$tmp"
