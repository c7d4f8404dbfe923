# Every target creates the virtual environment on first use; nothing is installed by hand.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install test lint sandbox sync ui screenshot clean wheel-check

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# three workers on two cores (the slow tests wait on the sandbox and subprocesses as much as they
# compute); a module's tests stay on one worker (they share its fixtures)
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q -n 3 --dist loadfile

# the wheel alone deploys: built from the checkout's files, installed into a fresh venv outside the
# checkout, a sandbox sync run from it in an empty folder, its warehouse checked (tests/support/wheel_check.py)
wheel-check: $(STAMP)
	$(PY) -m tests.support.wheel_check

sandbox: $(STAMP)
	$(PY) -m sandbox serve --host 127.0.0.1 --port 8787

# the nightly sync against the bundled sandbox, into data/warehouse.duckdb, then a summary
sync: $(STAMP)
	$(PY) -m pipelines.sandbox_sync

# the Dagster UI on 127.0.0.1 with the project's local Dagster home, against the bundled sandbox unless
# COFASERVE_BASE_URL is set (in the environment or .env)
UI_PORT ?= 3000
ui: $(STAMP)
	$(PY) -c 'from pathlib import Path; from pipelines.cli import ensure_dagster_home; ensure_dagster_home(Path(".dagster"))'
	DAGSTER_HOME=$(CURDIR)/.dagster $(PY) -m pipelines.sandbox_sync --ui --port $(UI_PORT)

# pictures of the asset graph, taken from a running `make ui` with headless Chromium, into
# data/screenshots/ (git-ignored); `make screenshot OUT=docs/asset-graph.png` refreshes the README's
screenshot: $(STAMP)
	$(PY) -m pip install --quiet -e '.[docs]'
	$(PY) docs/screenshot_ui.py --ui http://127.0.0.1:$(UI_PORT) $(if $(OUT),--out $(OUT))

clean:
	rm -rf data .dagster .pytest_cache .ruff_cache

# benchmarks: each one in bench/ as its own process, figures as ratios in bench/RESULTS.md (~30 min)
BENCH_STAMP := $(VENV)/.bench-installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	rm -f $(VENV)/.bench-installed-*
	touch $(BENCH_STAMP)

.PHONY: bench soak
bench: $(BENCH_STAMP)
	$(PY) -m bench.run_all

# night after night against a hostile sandbox, syncs killed mid-way, history checked against the truth
soak: $(BENCH_STAMP)
	$(PY) -m bench.soak
