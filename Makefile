# The README's two commands: `make run` and `make test`. Everything they need is installed here.
VENV    := .venv
BIN     := $(VENV)/bin
PYTHON  ?= $(shell command -v python3.11 || command -v python3)

.PHONY: run test bench install system-deps test-deps migrate seed lint catalogs clean

$(BIN)/luzhi: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "Python 3.11 is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

system-deps:
	@bash deploy/system-deps.sh

test-deps:
	@bash deploy/system-deps.sh --test

install: system-deps $(BIN)/luzhi

migrate: install
	$(BIN)/luzhi migrate

seed: migrate
	$(BIN)/luzhi demo seed

run: seed
	$(BIN)/luzhi serve

test: install test-deps
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/run.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# extract every translatable string and merge it into the catalogs
catalogs: install
	$(BIN)/pybabel extract -F locale/babel.cfg -k _l -k gettext -k ngettext:1,2 -o locale/messages.pot --no-location --sort-output --project=luzhi server templates tenants
	$(BIN)/pybabel update -i locale/messages.pot -d locale --no-fuzzy-matching --ignore-obsolete --no-wrap

clean:
	rm -rf $(VENV) var
