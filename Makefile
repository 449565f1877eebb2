# The two commands a user needs: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB_URL ?= sqlite:///var/ivr.db

# System programs ivr runs: espeak-ng speaks dynamic text, sox renders prompts; chromium runs the
# console's browser tests (Playwright drives the system browser, it never downloads one).
# scripts/system-packages.sh installs any that is missing (apt-get as root, else `sudo -n`, else
# it prints the command), so these two commands stay the whole set-up.
RUN_PROGRAMS := espeak-ng sox
TEST_PROGRAMS := $(RUN_PROGRAMS) chromium

.PHONY: run test lint check pytest bench clean help system system-test

help:
	@echo "make run    set up .venv, migrate var/ivr.db, load the demo company, start 'ivr serve'"
	@echo "make test   set up .venv with the test tools, then lint, type-check and run the suite"
	@echo "make bench  run the benchmarks (each prints a table)"

$(VENV)/.python-ok:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "ivr needs Python 3.11 or newer: install it (Debian: apt-get install python3) or run 'make PYTHON=python3.11 ...'"; exit 1; }
	@# Debian ships venv support in its own package: install it the way the system programs are.
	@$(PYTHON) -m venv $(VENV) >/dev/null 2>&1 || \
	  { sh scripts/system-packages.sh --packages python3-venv && $(PYTHON) -m venv --clear $(VENV); } || \
	  { echo "could not create $(VENV): install venv support (Debian: apt-get install python3-venv)"; exit 1; }
	@touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.python-ok
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

system:
	@sh scripts/system-packages.sh $(RUN_PROGRAMS)

system-test:
	@sh scripts/system-packages.sh $(TEST_PROGRAMS)

run: system $(VENV)/.installed
	$(BIN)/ivr db upgrade
	$(BIN)/ivr demo load
	$(BIN)/ivr serve --next-steps

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check ivr tests benchmarks
	$(BIN)/mypy --strict ivr
	$(BIN)/lint-imports

pytest: system-test $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -ra $(PYTEST_ARGS)

test: lint pytest

check: test

bench: $(VENV)/.installed-dev
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
