# Two commands on a fresh machine: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

# $(call debian_command,COMMAND,PACKAGE,WHO): install Debian's PACKAGE when COMMAND is missing (as root through
# apt-get), or stop and name it.
define debian_command
	@if ! command -v $(1) >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && apt-get install -y -qq --no-install-recommends $(2); \
		else \
			echo "$(3) needs Debian's '$(2)' package (apt-get install $(2)) and cannot install it: not root or no apt-get"; \
			exit 1; \
		fi; \
	fi
endef

.PHONY: run test test-production production-tools lint lint-js typecheck test-quick test-later-clock test-pitr pgbackrest setup dev-setup translations db chromium faketime wrk backup-tools extract-messages bench clean

run: setup db
	$(BIN)/bintang run

# The tests without a browser in TEST_WORKERS processes (pytest-xdist; each has its own databases), then the
# browser tests in one process: they share a live app, a push service and Chromium, and use both cores already.
TEST_WORKERS ?= 2
test: dev-setup chromium backup-tools production-tools pgbackrest lint typecheck
	$(BIN)/python -m pytest -m "not browser and not pitr and not production" -n $(TEST_WORKERS)
	$(BIN)/python -m pytest -m browser
	$(BIN)/python -m pytest -m production -p no:cacheprovider
	$(BIN)/python -m pytest -m pitr tests/pitr -q -p no:cacheprovider

# The production install proven on this machine (README: Production): deploy/install renders everything for
# localhost with --tls internal into a temporary root, on a fresh PostgreSQL database (TEST_DATABASE_URL's server,
# else 127.0.0.1:5432 as postgres); the web processes, the worker and Caddy run with the rendered units' command
# lines and settings, and Chromium opens the HTTPS address. Installs Debian's caddy and libnss3-tools if missing.
test-production: dev-setup chromium production-tools
	$(BIN)/python -m pytest -m production -p no:cacheprovider

production-tools:
	$(call debian_command,caddy,caddy,make test-production)
	$(call debian_command,certutil,libnss3-tools,make test-production)

# Undefined and unused names, imports in order (configured in pyproject.toml); then our JavaScript.
lint: dev-setup lint-js
	$(BIN)/ruff check --no-cache server tests bench

# mypy on server/ (configured in pyproject.toml): every `type: ignore[code]` left says why on its line.
typecheck: dev-setup
	$(BIN)/mypy

# ESLint (locked in package-lock.json, configured in eslint.config.mjs) on static/js and the service worker:
# recommended rules, no eval in any form (the CSP forbids it), === only, no unused names. A warning fails too.
lint-js: node_modules/.package-lock.json
	node_modules/.bin/eslint --max-warnings 0 static/js service_worker

# The quick loop: every test without a browser, on SQLite (and PostgreSQL too if TEST_DATABASE_URL is set).
test-quick: dev-setup backup-tools
	$(BIN)/python -m pytest -m "not browser and not pitr and not production" -n $(TEST_WORKERS) -q

# Proof that the suite does not depend on today's date: the tests without a browser with the system clock moved
# by libfaketime (monotonic time stays real, or timeouts misbehave). LATER_CLOCKS lists the moments. The processes
# the real_clock tests start inherit the moved clock, so those run here too. libfaketime reads its FAKETIME setting
# again with getenv whenever its cache lapses (every 10 s by default); here only once a day (FAKETIME_CACHE_DURATION),
# since a thread calling getenv while a test calls setenv can crash the process (C's environment is not thread-safe).
LATER_CLOCKS ?= 2027-07-15 10:00:00|2028-02-29 23:30:00
test-later-clock: dev-setup faketime backup-tools
	@moments='$(LATER_CLOCKS)'; IFS='|'; for moment in $$moments; do \
		echo "== the tests without a browser at $$moment (libfaketime)"; \
		FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_CACHE_DURATION=86400 faketime "$$moment" $(BIN)/python -m pytest -m "not browser and not pitr and not production" -q -p no:cacheprovider || exit 1; \
	done

# Point-in-time restore with pgBackRest (WAL archiving) on a PostgreSQL 15 cluster the test makes and removes
# itself; as root (the cluster runs as the postgres user). Installs Debian's pgbackrest.
test-pitr: dev-setup pgbackrest
	$(BIN)/python -m pytest -m pitr tests/pitr -q -p no:cacheprovider

pgbackrest:
	$(call debian_command,pgbackrest,pgbackrest,make test-pitr)

faketime:
	$(call debian_command,faketime,faketime,make test-later-clock)

# The off-host copy tests send archives with Debian's restic to an append-only restic REST server on 127.0.0.1
# (Debian's rclone: `rclone serve restic --append-only`).
backup-tools:
	$(call debian_command,restic,restic,the backup tests)
	$(call debian_command,rclone,rclone,the backup tests)

setup: $(VENV)/.installed node_modules/.package-lock.json translations

dev-setup: setup $(VENV)/.installed-dev

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Bintang Ceria needs Python 3.11 or newer as '$(PYTHON)' (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "Bintang Ceria needs npm (Debian package: npm) to install htmx"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d server/translations -D messages 2>&1 | grep -v '^$$' || true
	@test -f server/translations/en/LC_MESSAGES/messages.mo || { echo "translations did not compile"; exit 1; }

db: $(VENV)/.installed
	$(BIN)/bintang migrate
	$(BIN)/bintang seed-demo --if-empty

# Browser tests drive Debian's Chromium; Playwright cannot download its own browser here.
# The notification-tap tests stand in for the desktop's notification service on a private D-Bus, with
# Debian's dbus-daemon and the system Python's dbus and GLib bindings.
BROWSER_PACKAGES := chromium chromium-driver dbus python3-dbus python3-gi
chromium:
	@if ! command -v chromium >/dev/null || ! command -v dbus-daemon >/dev/null || \
		! /usr/bin/python3 -c 'import dbus, gi.repository.GLib' 2>/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES); \
		else \
			echo "make test needs Debian's packages $(BROWSER_PACKAGES) (apt-get install ...) and cannot install them: not root or no apt-get"; \
			exit 1; \
		fi; \
	fi

extract-messages: dev-setup
	$(BIN)/pybabel extract --no-location --sort-by-file -k _l -F babel.cfg -o server/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i server/translations/messages.pot -d server/translations -D messages

# The appointments benchmark drives the app with Debian's wrk (HTTP load generator).
wrk:
	$(call debian_command,wrk,wrk,make bench)

bench: dev-setup chromium wrk
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules
