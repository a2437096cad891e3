# Loupe: the two commands are `make run` (the app at http://localhost:8501) and `make test`.
# Both create or refresh the virtual environment in .venv from the pinned requirements.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Test worker processes: the suite waits on browsers and subprocesses about half of its time, so two
# workers on two cores finish sooner; each worker takes whole test files (module fixtures train once).
TEST_WORKERS ?= 2

.PHONY: run dev test lint format demo bench lock clean

$(STAMP): requirements.txt requirements-nodeps.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Loupe needs Python 3.11; set PYTHON=/path/to/python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m analysis models build-demo --if-missing
	$(PY) -m analysis serve --port 8501 --address 0.0.0.0  # the app and its background worker, stopped together

# For working on the app: reload on save (polling the project's own modules: inotify's recursive
# watch of the checkout would walk .venv and .loupe) and full tracebacks, on this machine only.
dev: $(STAMP)
	$(PY) -m analysis models build-demo --if-missing
	$(VENV)/bin/streamlit run app.py --server.port 8501 --server.address 127.0.0.1 \
		--server.fileWatcherType poll --server.runOnSave true --client.showErrorDetails full

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mkdocs build --strict --quiet
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# The documentation site, offline, into site/ (git-ignored); --strict: a broken link or anchor fails.
.PHONY: docs screenshots
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

# Retake docs/images/*.png from the running app (demo models, Debian's chromium; see docs/development.md).
screenshots: $(STAMP)
	$(PY) docs/screenshots.py

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

demo: $(STAMP)
	$(PY) -m analysis models build-demo

bench: $(STAMP)
	for script in bench/bench_*.py; do PYTHONPATH=. $(PY) $$script || exit 1; done

# Re-pin every package after editing requirements.in (needs the package registry).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.in
	{ head -3 requirements.txt; .lock-venv/bin/pip freeze | grep -viE '^tensorflow[-_](empirical[-_])?privacy=='; } > requirements.txt.new && mv requirements.txt.new requirements.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV)
