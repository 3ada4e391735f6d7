# The two commands of the README: `make run` and `make test`, and `make manage` for operators.
# Needs Python 3.11 (and Node 20 for `make test`); everything else is installed here.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?=

.PHONY: run manage test lint install install-dev clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.base-installed: requirements/base.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements/base.txt
	@touch $@

$(VENV)/.dev-installed: requirements/base.txt requirements/dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements/dev.txt
	@touch $(VENV)/.base-installed $@

# A clean tree first: npm ci trips over a tree an interrupted install left behind (ENOTEMPTY).
node_modules/.installed: package.json package-lock.json
	rm -rf node_modules
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.base-installed
install-dev: $(VENV)/.dev-installed node_modules/.installed

run: install
	$(PY) -m evaapi.devservices run

# A management command in the project's venv and `make run`'s environment (its .env, var/ and
# Redis): make manage ARGS='create_tenant "Acme Corp" --tier pro'
manage: install
	$(PY) -m evaapi.devservices manage $(ARGS)

test: install-dev
	$(PY) -m evaapi.devservices test -- $(ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) node_modules var/test-logs
