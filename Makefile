# Consult: `make run` serves the demo site; `make test` runs the whole suite; `make lint` checks the code. Each sets
# everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 5000
# pytest-xdist workers for `make test` (auto: one per core); TEST_WORKERS=0 runs the suite in this process.
TEST_WORKERS ?= auto
# Tests of one file stay on one worker (their module fixtures are built once); each worker that runs browser
# journeys starts its own live server and browser. (--dist loadgroup did not keep marked tests together with
# pytest 9.2 and pytest-xdist 3.8.)
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadfile

.PHONY: install run test test-postgres lint check-migrations translations translations-update bench loadtest clean typecheck-all

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	@if ls consult/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel --quiet compile -d consult/translations; fi

# After changing user-facing text: extract the messages again and merge them into each catalogue; then translate
# the new and changed (fuzzy) entries in consult/translations/*/LC_MESSAGES/messages.po. The ignore list keeps
# templates/_macros and templates/_partials in (by default Babel skips folders whose names start with "_").
translations-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -k lazy_ngettext:1,2 \
		--ignore-dirs ".* __pycache__ node_modules" --no-location --sort-output \
		--project Consult --copyright-holder "Consult contributors" -o consult/translations/messages.pot .
	$(BIN)/pybabel update --width 120 -i consult/translations/messages.pot -d consult/translations --ignore-obsolete
	$(BIN)/pybabel compile --statistics -d consult/translations

run: install
	$(FLASK) db upgrade
	$(FLASK) demo-data --if-empty
	$(FLASK) search drain
	@echo "Serving Consult on http://$(HOST):$(PORT)/"
	CONSULT_BASE_URL=$${CONSULT_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/gunicorn --workers 2 --bind $(HOST):$(PORT) \
		--access-logfile - app:app

test: install
	$(BIN)/pytest $(PYTEST_PARALLEL)

# The same suite against PostgreSQL. Each worker has its own database, named after this one with the worker's id
# (test_gw0, test_gw1...); the fixtures create it when missing and empty its schema first.
test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/pytest $(PYTEST_PARALLEL)

# Lint, format and type checks (settings in pyproject.toml); all three run, and any failure fails the target.
lint: $(STAMP)
	@status=0; \
	echo "ruff check"; $(BIN)/ruff check . || status=1; \
	echo "ruff format --check"; $(BIN)/ruff format --check . || status=1; \
	echo "mypy"; $(BIN)/mypy || status=1; \
	exit $$status

# The whole package under the same mypy settings, including the modules not yet in `make lint` (pyproject.toml).
typecheck-all: $(STAMP)
	$(BIN)/mypy consult

check-migrations: install
	$(BIN)/python scripts/check_migrations.py

# The benchmark suite (about 30 minutes; not part of make test). Figures go to bench/results/, summary.md collects them.
bench: install
	$(BIN)/python bench/bench_redline.py
	$(BIN)/python bench/bench_search.py --comments $${BENCH_SEARCH_COMMENTS:-100000}
	$(BIN)/python bench/bench_export.py
	$(BIN)/python bench/bench_pages.py --sizes $${BENCH_SIZES:-small,medium,large}
	$(BIN)/python bench/run_all.py

# Deadline day: simulated participants against gunicorn on SQLite, and on PostgreSQL with each search backend
# (about 45 minutes on a quiet machine).
loadtest: install
	$(BIN)/python bench/loadtest.py
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache
