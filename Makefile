# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# uv installs exactly what uv.lock says (versions and hashes); uv itself is pinned here and
# installed with pip into its own small venv, so a machine needs only Python 3.11 and make.
UV_VERSION := 0.13.8
UV := .uv/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export PTB_TIMEDELTA := true

.PHONY: run test install install-test locales locales-compile lint browser lock clean

$(UV):
	$(PYTHON) -m venv .uv || python3 -m venv .uv
	.uv/bin/pip install --quiet uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --locked --no-dev
	$(MAKE) --no-print-directory locales-compile

install-test: $(UV)
	$(UV) sync --locked --extra test
	$(MAKE) --no-print-directory locales-compile

# Refresh the lock on purpose: `make lock` keeps every pin it can; `make lock UPGRADE=babel`
# moves one package to the newest version pyproject's ranges allow. Then `make test`.
lock: $(UV)
	$(UV) lock $(if $(UPGRADE),--upgrade-package $(UPGRADE))

# Build the .mo files from the committed .po catalogs (they are never committed).
locales-compile:
	@if ls locales/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile --domain messages --directory locales --statistics 2>&1 | tail -1; fi

# Extract messages from bot/ and flows/, update every catalog, compile.
locales:
	$(BIN)/pybabel extract --mapping-file babel.cfg --no-default-keywords --keywords N_ --no-location --sort-output \
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
	$(BIN)/lint-imports --no-cache
	$(BIN)/bandit -q -r bot flows storage -c pyproject.toml

test: install-test browser lint
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) .uv .pytest_cache .mypy_cache .ruff_cache
