# Custodian: `make run` starts the bot, `make test` runs every test. Both set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run playground chat test test-sqlite test-postgres lint typecheck audit package bench migration cards clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt requirements-nodeps.txt
	$(PIP) install -r requirements-dev.txt
	$(PIP) install --no-deps -r requirements-nodeps.txt
	touch $@

# Node packages for the tests (the Adaptive Cards renderer and Microsoft 365 Agents Playground), exactly as package-lock.json pins them.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund && touch $@; \
	else echo "WARNING: npm not found (sudo apt-get install nodejs npm): the card renderer tests will be skipped" >&2; fi

run: $(VENV)/.runtime  ## start the bot on 0.0.0.0:$$PORT (3978) with SQLite in ./data
	$(PY) app.py

playground: node_modules/.installed  ## Microsoft's Teams emulator in your browser, for the bot of `make run` (AS=staff or AS=dpo)
	M365_AGENTS_PLAYGROUND_CONFIG_PATH=tests/playground/$(or $(AS),staff).m365agentsplayground.yml \
		node_modules/.bin/agentsplayground -e http://127.0.0.1:$(or $(PORT),3978)/api/messages -c msteams --dt \
		-p $(or $(PLAYGROUND_PORT),56150)

chat: $(VENV)/.runtime  ## talk to the bot in this terminal, no Teams needed
	$(PY) -m bot.chat

test: $(VENV)/.dev node_modules/.installed  ## type check, the whole suite on SQLite (with the Playground suite), then on a throwaway PostgreSQL 15
	$(PY) -m mypy .
	$(PY) -m pytest -q
	tests/with_postgres.sh $(PY) -m pytest -q

test-sqlite: $(VENV)/.dev node_modules/.installed
	$(PY) -m pytest -q

test-postgres: $(VENV)/.dev
	tests/with_postgres.sh $(PY) -m pytest -q

lint: $(VENV)/.dev  ## ruff, and the layers' import rules (.importlinter)
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

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

cards: $(VENV)/.dev node_modules/.installed  ## PNG pictures of the main cards: renderer into docs/cards/, Playground into docs/playground/
	CARDS_DIR=docs/cards $(PY) -m pytest -q tests/core/test_foundation.py tests/breach/test_breach_report.py tests/breach/test_breach_dpo.py \
	  tests/dpo/test_status.py tests/consent/test_consent_check.py tests/consent/test_consent_removals.py tests/training/test_training_e2e.py \
	  tests/dpo/test_dpo_queries.py tests/breach/test_drills.py tests/calendar/test_calendar.py \
	  tests/accounts/test_accounts.py tests/accounts/test_account_leavers.py tests/breach/test_ico_pack.py
	PLAYGROUND_DIR=docs/playground $(PY) -m pytest -q tests/bot/test_playground.py

clean:
	rm -rf $(VENV) node_modules build .pytest_cache .mypy_cache .ruff_cache
