# Custodian: `make run` starts the bot, `make test` runs every test. Both set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run chat test test-sqlite test-postgres lint typecheck audit package bench migration clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt requirements-nodeps.txt
	$(PIP) install -r requirements-dev.txt
	$(PIP) install --no-deps -r requirements-nodeps.txt
	touch $@

run: $(VENV)/.runtime  ## start the bot on 0.0.0.0:$$PORT (3978) with SQLite in ./data
	$(PY) app.py

chat: $(VENV)/.runtime  ## talk to the bot in this terminal, no Teams needed
	$(PY) -m bot.chat

test: $(VENV)/.dev  ## the whole suite on SQLite, then on a throwaway PostgreSQL 15
	$(PY) -m pytest -q
	tests/with_postgres.sh $(PY) -m pytest -q

test-sqlite: $(VENV)/.dev
	$(PY) -m pytest -q

test-postgres: $(VENV)/.dev
	tests/with_postgres.sh $(PY) -m pytest -q

lint: $(VENV)/.dev
	$(PY) -m ruff check .

typecheck: $(VENV)/.dev
	$(PY) -m mypy .

audit: $(VENV)/.dev  ## known vulnerabilities in every installed (pinned) package; asks PyPI, so not part of `make test`
	$(PY) -m pip_audit --strict --local --progress-spinner off

package: $(VENV)/.dev  ## build/custodian-teams-app.zip (needs MicrosoftAppId and BOT_DOMAIN)
	$(PY) -m manifest.build

migration: $(VENV)/.runtime  ## a new schema revision from the model changes: make migration m="what changed"
	$(PY) -m storage.migrate revision "$(m)"

bench: $(VENV)/.dev  ## benchmarks (a few minutes; 127.0.0.1 only): prints tables, writes bench/RESULTS.md
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
