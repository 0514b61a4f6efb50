# The README's two commands: `make run` and `make test`. Everything they need is installed here,
# at the exact versions of the lock files, each file checked against its hash.
VENV     := .venv
BIN      := $(VENV)/bin
PYTHON   ?= $(shell command -v python3.11 || command -v python3)
LOCK     := requirements.lock
DEV_LOCK := requirements-dev.lock
DEV      := $(VENV)/.dev-installed
# `make lock UPGRADE=1` moves every pin to the newest release pyproject.toml allows;
# plain `make lock` keeps the pins that still fit and resolves only what changed
LOCK_ARGS := --universal --python-version 3.11 --generate-hashes --custom-compile-command 'make lock' -q $(if $(UPGRADE),--upgrade)
# the build backend, pinned with the rest so the project installs without build isolation
BUILD_REQS := setuptools>=68

.PHONY: run test bench bench-deps install install-dev system-deps test-deps migrate seed lint catalogs lock clean

# the application and what it runs on, nothing for tests
$(BIN)/luzhi: pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "Python 3.11 is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	@touch $@

# tests, benchmarks, lint and re-locking on top
$(DEV): $(BIN)/luzhi $(DEV_LOCK)
	$(BIN)/python -m pip install -q --require-hashes -r $(DEV_LOCK)
	@touch $@

system-deps:
	@bash deploy/system-deps.sh

test-deps:
	@bash deploy/system-deps.sh --test

install: system-deps $(BIN)/luzhi

install-dev: install $(DEV)

migrate: install
	$(BIN)/luzhi migrate

seed: migrate
	$(BIN)/luzhi demo seed

run: seed
	$(BIN)/luzhi serve

# two processes (pytest-xdist), each with its own databases; tests sharing a package
# fixture keep to one worker (xdist_group)
test: install-dev test-deps
	$(BIN)/pytest -n 2 --dist loadgroup

# the in-process rows on both databases, then the pages under load over sockets (wrk)
bench: install-dev bench-deps
	$(BIN)/python bench/run.py
	$(BIN)/python bench/load.py

bench-deps:
	@bash deploy/system-deps.sh --bench

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# extract every translatable string and merge it into the catalogs
catalogs: install
	$(BIN)/pybabel extract -F locale/babel.cfg -k _l -k gettext -k ngettext:1,2 -o locale/messages.pot --no-location --sort-output --project=luzhi server templates tenants
	$(BIN)/pybabel update -i locale/messages.pot -d locale --no-fuzzy-matching --ignore-obsolete --no-wrap

# re-resolve the lock files from pyproject.toml's ranges: the dev lock first, then the
# runtime lock held to the same versions
lock: $(DEV)
	echo '$(BUILD_REQS)' | $(BIN)/uv pip compile pyproject.toml - --extra dev $(LOCK_ARGS) -o $(DEV_LOCK)
	echo '$(BUILD_REQS)' | $(BIN)/uv pip compile pyproject.toml - -c $(DEV_LOCK) $(LOCK_ARGS) -o $(LOCK)

clean:
	rm -rf $(VENV) var
