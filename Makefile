# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export PTB_TIMEDELTA := true

.PHONY: run test install install-test locales lint browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(MAKE) --no-print-directory locales-compile

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(MAKE) --no-print-directory locales-compile

# Build the .mo files from the committed .po catalogs (they are never committed).
locales-compile:
	@if ls locales/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile --domain messages --directory locales --statistics 2>&1 | tail -1; fi

# Extract messages from bot/ and flows/, update every catalog, compile.
locales:
	$(BIN)/pybabel extract --mapping-file babel.cfg --keywords N_ --no-location --sort-output \
		--project helpline --output-file locales/messages.pot bot flows
	$(BIN)/pybabel update --domain messages --input-file locales/messages.pot --output-dir locales \
		--no-fuzzy-matching --ignore-obsolete
	$(MAKE) --no-print-directory locales-compile

run: install
	$(BIN)/helpline db upgrade
	HELPLINE_EPHEMERAL_SECRET=1 $(BIN)/helpline serve --host 127.0.0.1 --port 8080

browser:
	@command -v chromium >/dev/null 2>&1 || { \
		(apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 || \
		(sudo apt-get update -qq && sudo apt-get install -y -qq chromium) >/dev/null 2>&1 || \
		echo "chromium missing: install Debian's chromium package for the browser tests"; }

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install-test browser lint
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
