# Everyday commands. `make run` starts the portal on a fresh machine (Python 3.11,
# nothing else); `make test` runs the whole test suite. See README.md.
#
# The virtual environment lives in .venv. Requirements are installed again only when
# requirements*.txt change: a stamp file named after a checksum of their content
# records what was installed.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=
RUNSERVER_ADDR ?= 127.0.0.1:8000
SMOKE_TIMEOUT ?= 60
SMOKE_JOB_TIMEOUT ?= 240

RUN_HASH := $(shell cat requirements.txt | cksum | cut -d' ' -f1)
DEV_HASH := $(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
RUN_STAMP := $(VENV)/.installed-run-$(RUN_HASH)
DEV_STAMP := $(VENV)/.installed-dev-$(DEV_HASH)

# The development targets default to DEBUG=1 (no SECRET_KEY needed, local hosts
# allowed); a DEBUG set by the user, in the environment or on the command line, wins.
DEV := DEBUG=$${DEBUG:-1}

# Exits 0 when the URL answers 200 without a redirect.
HTTP_200 = $(PY) -c 'import sys, urllib.request; r = urllib.request.urlopen(sys.argv[1], timeout=5); sys.exit(r.status != 200 or r.geturl() != sys.argv[1])'

.DEFAULT_GOAL := help
.PHONY: help install install-dev run test lint check migrate seed worker smoke prod-smoke

help:
	@echo "make run      create .venv, install, migrate, load the demo data, serve on http://$(RUNSERVER_ADDR)/"
	@echo "make test     run the whole test suite (extra pytest arguments: make test ARGS=\"-k foo\")"
	@echo "make lint     ruff check ."
	@echo "make check    ruff check, ruff format --check, the import contracts, mypy (what CI checks before the tests)"
	@echo "make migrate  apply database migrations"
	@echo "make seed     load the demo data (idempotent) and print the demo logins"
	@echo "make worker   Celery worker with beat (needs CELERY_BROKER_URL)"
	@echo "make smoke    the newcomer path on SQLite in a temporary VAR_DIR, checked over HTTP"
	@echo "make prod-smoke  the production layout (2 web, worker, beat, PostgreSQL, Redis, S3) checked over HTTP"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or later is needed: set PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): | $(PY)
	$(PY) -m pip install -r requirements.txt
	@rm -f $(VENV)/.installed-run-*
	@touch $@

# requirements-dev.txt includes requirements.txt, so it satisfies both stamps.
$(DEV_STAMP): | $(PY)
	$(PY) -m pip install -r requirements-dev.txt
	@rm -f $(VENV)/.installed-run-* $(VENV)/.installed-dev-*
	@touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)

install-dev: $(DEV_STAMP)

migrate: $(RUN_STAMP)
	$(DEV) $(PY) manage.py migrate --noinput

seed: migrate
	$(DEV) RUNSERVER_ADDR=$(RUNSERVER_ADDR) DMP_SEND_DELAY_MINUTES=$${DMP_SEND_DELAY_MINUTES:-1} $(PY) manage.py seed_demo

# `make run` is the laptop configuration: runserver, and beside it a Celery worker with
# beat on kombu's filesystem transport (message files under VAR_DIR/broker), stopped with
# it, so that the periodic jobs run with nothing to install; the DMP is the simulated
# one, its sending delay one minute. Each variable set by the user wins.
LAPTOP_ENV = export DEBUG=$${DEBUG:-1} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-filesystem://} \
	DMP_CLIENT=$${DMP_CLIENT:-documents.dmp.RecordingClient} DMP_SEND_DELAY_MINUTES=$${DMP_SEND_DELAY_MINUTES:-1}
LAPTOP_WORKER = $(VENV)/bin/celery -A portal worker -B --pool=solo --without-mingle --without-gossip \
	--without-heartbeat -l info --schedule "$${VAR_DIR:-var}/celerybeat-schedule"

run: migrate seed
	@set -eu; $(LAPTOP_ENV); worker=; \
	stop() { if [ -n "$$worker" ]; then kill "$$worker" 2>/dev/null || true; wait "$$worker" 2>/dev/null || true; fi; }; \
	trap stop EXIT; trap 'exit 130' INT TERM; \
	$(LAPTOP_WORKER) >"$${VAR_DIR:-var}/worker.log" 2>&1 & worker=$$!; \
	echo "Tâches de fond : worker Celery avec beat (pid $$worker), journal $${VAR_DIR:-var}/worker.log"; \
	$(PY) manage.py runserver $(RUNSERVER_ADDR)

# DATABASE_URL, CELERY_BROKER_URL, CACHE_URL and REQUIRE_SERVICES pass through as set.
test: $(DEV_STAMP)
	$(PY) -m pytest $(ARGS)

lint: $(DEV_STAMP)
	$(PY) -m ruff check .

check: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	DEBUG=1 $(VENV)/bin/mypy

worker: $(RUN_STAMP)
	@[ -n "$${CELERY_BROKER_URL:-}" ] || \
		{ echo "CELERY_BROKER_URL is not set: tasks run in-process, no worker is needed." \
		       "To use one: CELERY_BROKER_URL=redis://127.0.0.1:6379/0 make worker (and the same for make run)." >&2; \
		  exit 1; }
	$(DEV) $(VENV)/bin/celery -A portal worker -B -l info --schedule "$${VAR_DIR:-var}/celerybeat-schedule"

# What a newcomer gets from `make run`, on SQLite, in a throwaway VAR_DIR: migrate,
# seed_demo, runserver on a free port and the laptop worker with beat beside it; then
# /healthz and the login page must answer 200, and the beat must, by itself, send the
# demo's queued documents to the simulated DMP within SMOKE_JOB_TIMEOUT seconds.
smoke: $(RUN_STAMP)
	@set -eu; \
	tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/portal-smoke.XXXXXX"); pid=; worker=; \
	cleanup() { \
		if [ -n "$$pid" ]; then kill "$$pid" 2>/dev/null || true; wait "$$pid" 2>/dev/null || true; fi; \
		if [ -n "$$worker" ]; then kill "$$worker" 2>/dev/null || true; wait "$$worker" 2>/dev/null || true; fi; \
		rm -rf "$$tmp"; \
	}; \
	trap cleanup EXIT; trap 'exit 130' INT TERM; \
	unset DATABASE_URL CELERY_BROKER_URL CELERY_RESULT_BACKEND CACHE_URL EMAIL_URL PRIVATE_MEDIA_ROOT DMP_CLIENT; \
	export VAR_DIR="$$tmp/var" DEBUG=1 DMP_SEND_DELAY_MINUTES=0; \
	echo "smoke: VAR_DIR=$$VAR_DIR (SQLite, seeded with tasks in-process)"; \
	echo "smoke: manage.py migrate"; \
	$(PY) manage.py migrate --noinput; \
	echo "smoke: manage.py seed_demo"; \
	$(PY) manage.py seed_demo; \
	port=$$($(PY) -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	url="http://127.0.0.1:$$port"; \
	$(LAPTOP_ENV); \
	echo "smoke: the laptop worker with beat ($$CELERY_BROKER_URL, DMP $$DMP_CLIENT)"; \
	$(LAPTOP_WORKER) >"$$tmp/worker.log" 2>&1 & worker=$$!; \
	echo "smoke: manage.py runserver $$url"; \
	$(PY) manage.py runserver --noreload "127.0.0.1:$$port" >"$$tmp/server.log" 2>&1 & pid=$$!; \
	deadline=$$(( $$(date +%s) + $(SMOKE_TIMEOUT) )); \
	until $(HTTP_200) "$$url/healthz" 2>/dev/null; do \
		if ! kill -0 "$$pid" 2>/dev/null; then \
			echo "smoke: FAILED: the server stopped. Its output:" >&2; cat "$$tmp/server.log" >&2; exit 1; \
		fi; \
		if [ "$$(date +%s)" -ge "$$deadline" ]; then \
			echo "smoke: FAILED: GET /healthz did not answer 200 within $(SMOKE_TIMEOUT) s. Server output:" >&2; \
			tail -n 50 "$$tmp/server.log" >&2; exit 1; \
		fi; \
		sleep 1; \
	done; \
	echo "smoke: GET /healthz 200"; \
	if ! $(HTTP_200) "$$url/accounts/login/"; then \
		echo "smoke: FAILED: GET /accounts/login/ did not answer 200. Server output:" >&2; \
		tail -n 50 "$$tmp/server.log" >&2; exit 1; \
	fi; \
	echo "smoke: GET /accounts/login/ 200"; \
	deadline=$$(( $$(date +%s) + $(SMOKE_JOB_TIMEOUT) )); \
	until $(PY) manage.py shell -v 0 -c 'import sys; from documents.models import DmpShare; sys.exit(not DmpShare.objects.filter(status="sent", remote_id__startswith="simulated-").exists())' 2>/dev/null; do \
		if ! kill -0 "$$worker" 2>/dev/null; then \
			echo "smoke: FAILED: the worker stopped. Its output:" >&2; tail -n 50 "$$tmp/worker.log" >&2; exit 1; \
		fi; \
		if [ "$$(date +%s)" -ge "$$deadline" ]; then \
			echo "smoke: FAILED: no queued document reached the simulated DMP within $(SMOKE_JOB_TIMEOUT) s. Worker output:" >&2; \
			tail -n 50 "$$tmp/worker.log" >&2; exit 1; \
		fi; \
		sleep 5; \
	done; \
	echo "smoke: the beat sent the queued documents to the simulated DMP by itself"; \
	echo "smoke: OK"

# The production layout on this machine, checked over HTTP (deploy/prod_smoke.py): two
# gunicorn web processes and a Celery worker and beat in separate working directories,
# a throwaway PostgreSQL database (PROD_SMOKE_PG), their own Redis, moto's S3 server and
# an SMTP sink; everything started is stopped by pid. Needs PostgreSQL and redis-server.
prod-smoke: $(DEV_STAMP)
	$(PY) deploy/prod_smoke.py
