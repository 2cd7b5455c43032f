# wxsite: `make run` starts the back office on the embedded default; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: run run-served-sandbox test lint format migrate seed venv var clean bench browser-deps

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip

$(VENV)/.local-installed: requirements/base.txt requirements/local.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements/local.txt
	touch $@

$(VENV)/.test-installed: requirements/base.txt requirements/local.txt requirements/production.txt requirements/test.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements/test.txt
	touch $@ $(VENV)/.local-installed

venv: $(VENV)/.local-installed

# Settings only read var/: this creates it, the broker folders and (embedded mode) the generated secrets.
var: venv
	$(PY) -m wxsite.var

migrate: var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

seed: migrate
	$(PY) manage.py ensure_superuser
	$(PY) manage.py sandbox_seed

run: seed
	@echo ""
	@echo "  Back office:        http://127.0.0.1:8000/admin/"
	@echo "  Follower simulator: http://127.0.0.1:8000/sandbox/simulator/"
	@echo "  Ctrl-C stops the web server and the Celery worker."
	@echo ""
	$(BIN)/honcho start -f Procfile

# As `make run`, with the sandbox as its own process over HTTP on 127.0.0.1:8900 (as benches use it).
run-served-sandbox: export WECHAT_API_BASE_URL_ALLOW_LOCAL_SANDBOX = true
run-served-sandbox: seed
	$(PY) manage.py sandbox_seed --served-at http://127.0.0.1:8900/sandbox/ --callback-base http://127.0.0.1:8000
	$(BIN)/honcho start -f Procfile.served-sandbox

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.test-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# pytest-xdist: one worker per core, each test file on one worker (they share module fixtures: served sandboxes, data).
TEST_WORKERS ?= auto

test: $(VENV)/.test-installed lint var
	$(PY) manage.py makemigrations --check --dry-run
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

# Every bench, then the table of latest figures in bench/README.md is rewritten (DATABASE_URL, REDIS_URL as set).
bench: $(VENV)/.test-installed var
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) var staticfiles
