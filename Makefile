# Chợ Dứa Kép — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MO := translations/vi/LC_MESSAGES/messages.mo translations/en/LC_MESSAGES/messages.mo
export FLASK_APP := app

.PHONY: run test bench audit translations i18n-extract clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# The .mo files are compiled here from the committed .po files (not committed themselves).
translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -d translations -l $* 2>&1 | tail -1

translations: $(MO)

run: $(STAMP) translations
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# --dist loadfile: the tests of a file run on one worker, so the browser journeys share one live app and one
# Chromium (--dist loadgroup would be the finer tool, but pytest-xdist 3.8 cannot group under pytest 9).
test: $(STAMP) translations
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# SQLite in a temporary folder; BENCH_DATABASE_URL=postgresql://... (its tables are wiped) for PostgreSQL.
bench: $(STAMP) translations
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Lighthouse (mobile) on six pages of the demo, served by gunicorn with production settings: audit/run.py.
# Installs npm's lighthouse into audit/node_modules (no global install) and Debian's Chromium when missing.
audit: $(STAMP) translations audit/node_modules/.package-lock.json
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	CHROME_PATH=/usr/bin/chromium $(BIN)/python audit/run.py $(AUDIT_ARGS)

audit/node_modules/.package-lock.json: audit/package.json audit/package-lock.json
	cd audit && npm ci --no-audit --no-fund

# Extract new strings and merge them into the .po files (then translate the vi ones).
i18n-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--project "Cho Dua Kep" --ignore-dirs=".venv tests bench migrations" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --ignore-obsolete --width 120

clean:
	rm -rf $(VENV) instance/static-build .pytest_cache
