# Phuket Tourist Safety — two commands: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# Debian packages: SpatiaLite for the embedded database, PostGIS for the PostgreSQL tests,
# Chromium for the browser tests, Node.js/npm for the pinned front-end libraries.
# Node.js/npm come from Debian only when no `npm` is on the PATH (a NodeSource nodejs bundles npm
# and conflicts with Debian's npm package).
DEB_NODE := $(if $(shell command -v npm 2>/dev/null),,nodejs npm)
DEB_RUN := libsqlite3-mod-spatialite python3-venv $(DEB_NODE)
DEB_TEST := $(DEB_RUN) postgresql-15-postgis-3 chromium fonts-noto-core fonts-noto-cjk nginx-light

# test workers (pytest-xdist): two per CPU core, since the suite mostly waits on servers and browsers
JOBS ?= $(shell echo $$(( 2 * $$(nproc 2>/dev/null || echo 1) )))
# The tests may keep bytecode (__pycache__, ignored by git) even where the environment says not to
# (PYTHONDONTWRITEBYTECODE=1, as on this project's machines): every server process a test starts
# and every xdist worker would compile the application and rewrite the tests' asserts again.
TEST_ENV := PYTHONDONTWRITEBYTECODE=

.PHONY: run test test-quick imports deps deps-dev debs debs-test db demo serve lint bench simulate clean

run: debs deps db demo serve ## install everything, prepare the embedded database, serve

test: debs-test deps-dev imports ## the import contracts, then the whole suite (SpatiaLite and PostGIS, browsers and servers), in parallel
	$(TEST_ENV) $(VENV)/bin/pytest -n $(JOBS) --dist worksteal $(PYTEST_ARGS)

test-quick: deps-dev ## the edit loop: SpatiaLite only, no browser, no server processes (`make test` is the truth)
	$(TEST_ENV) $(VENV)/bin/pytest -n $(JOBS) --dist worksteal --db spatialite -m "not browser and not slow" $(PYTEST_ARGS)

imports: deps-dev ## the import contracts of .importlinter (layers of the domains, a shared core that imports none)
	PYTHONPATH=. $(VENV)/bin/lint-imports --no-cache

# --- installation -------------------------------------------------------------------------
define install_debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages:$$missing"; \
	    echo "Run once: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi
endef

debs:
	$(call install_debs,$(DEB_RUN))

debs-test:
	$(call install_debs,$(DEB_TEST))

$(VENV)/bin/python:
	python3 -m venv $(VENV)

$(VENV)/.deps: requirements.txt | $(VENV)/bin/python
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.deps-dev: requirements.txt requirements-dev.txt $(VENV)/.deps
	$(PIP) install -q -r requirements-dev.txt
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --silent

deps: $(VENV)/.deps node_modules/.package-lock.json

deps-dev: $(VENV)/.deps-dev node_modules/.package-lock.json

# --- the embedded database and demo data --------------------------------------------------
db: deps
	$(FLASK) db upgrade
	$(FLASK) seed

demo: deps
	$(FLASK) demo

serve: deps
	@$(if $(SIMULATE),($(FLASK) simulate --tourists $(SIMULATE) --marine --base-url http://$(HOST):$(PORT) --wait 120 &),true)
	HOST=$(HOST) PORT=$(PORT) $(PY) wsgi.py

# `make run SIMULATE=20` also starts 20 simulated tourists and the marine scenario (boat trips, a late
# boat, a passenger left on Phi Phi, a red flag); `make simulate` runs them against a running server.
simulate: deps
	$(FLASK) simulate --tourists $(or $(SIMULATE),20) --marine --base-url http://$(HOST):$(PORT) --wait 30

# --- tools --------------------------------------------------------------------------------
lint: deps-dev
	$(VENV)/bin/ruff check .

bench: deps-dev ## the load benchmarks against their same-run references (docs/benchmarks.md); wrk from Debian
	$(call install_debs,wrk)
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) node_modules .pytest_cache test-artifacts
