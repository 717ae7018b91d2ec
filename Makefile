# Two commands: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8000

.PHONY: run test test-concurrency test-postgres test-redis test-multimachine install install-dev \
	migrate lint bench bench-realism bench-quota bench-throughput bench-c2pa bench-latency before-after screenshots \
	clean

# pip shows each package as it comes (about a minute the first time, nothing after).
PIP_INSTALL := $(PIP) install --disable-pip-version-check --progress-bar on

$(VENV)/.runtime: requirements.txt
	@echo "==> Python virtualenv in $(VENV)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> Installing the pinned packages of requirements.txt"
	$(PIP_INSTALL) --quiet --upgrade pip
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	@echo "==> Installing the test tools of requirements-dev.txt"
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

migrate: install
	@echo "==> Migrating the database"
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py collectstatic --noinput --verbosity 0
	PORT=$(PORT) $(PY) manage.py serve

test: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest

# Only the live-server tests (the real web server, concurrent requests); `make test` runs them too.
test-concurrency: install-dev
	$(VENV)/bin/pytest -m concurrency

# The whole suite on PostgreSQL (about as long as on SQLite). `bash .ci/run` starts a
# throwaway server for it; locally: DATABASE_URL=postgres://user:pass@host:port/db make ...
test-postgres: install-dev
	@case "$$DATABASE_URL" in postgres://*|postgresql://*) ;; \
	  *) echo "test-postgres needs DATABASE_URL=postgres://user:pass@host:port/db" >&2; exit 2;; \
	esac
	$(VENV)/bin/pytest

# The concurrency tests with rate windows in Redis. Only these: the rest of the suite
# rolls its database back after each test, but not Redis, so counts would leak between tests.
test-redis: install-dev
	@case "$$REDIS_URL" in redis://*) ;; \
	  *) echo "test-redis needs REDIS_URL=redis://host:port/db" >&2; exit 2;; \
	esac
	$(VENV)/bin/pytest -m concurrency

# The service as three machines (one web, two workers, separate VAR_DIRs) sharing only
# PostgreSQL, Redis and an S3 server. `bash .ci/run` starts all three; locally:
# DATABASE_URL=postgres://... REDIS_URL=redis://... MULTIMACHINE_S3_ENDPOINT=http://...
test-multimachine: install-dev
	@case "$$DATABASE_URL" in postgres://*|postgresql://*) ;; \
	  *) echo "test-multimachine needs DATABASE_URL=postgres://user:pass@host:port/db" >&2; exit 2;; \
	esac
	@case "$$REDIS_URL" in redis://*) ;; \
	  *) echo "test-multimachine needs REDIS_URL=redis://host:port/db" >&2; exit 2;; \
	esac
	@case "$$MULTIMACHINE_S3_ENDPOINT" in http://*|https://*) ;; \
	  *) echo "test-multimachine needs MULTIMACHINE_S3_ENDPOINT=http://host:port (moto_server)" >&2; exit 2;; \
	esac
	$(VENV)/bin/pytest -m multimachine tests/test_multimachine.py -p no:cacheprovider -rs -x

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install-dev
	$(PY) benchmarks/engine_speed.py

# What issue #9's realism steps cost a face: every swap with them and without, alternated.
bench-realism: install-dev
	$(PY) -m benchmarks.realism_cost

# The light-matching before/after picture from ../shared/faces/large (not committed).
before-after: install-dev
	$(PY) -m benchmarks.before_after --out /tmp/before_after.png

# A 60-job burst through the API with two workers: embedded default, and (with
# BENCH_ARGS="--database-url postgres://... --redis-url redis://... --s3-endpoint http://...")
# on PostgreSQL + Redis + S3 too. See docs/benchmarks.md.
bench-throughput: install-dev
	$(PY) benchmarks/throughput.py $(BENCH_ARGS)

# 1,000 concurrent creates against the web server; BENCH_ARGS="--database-url postgres://..."
bench-quota: install-dev
	$(PY) benchmarks/quota_load.py $(BENCH_ARGS)

# Click to download link in a real browser (Debian's chromium), ~1 MP photos.
bench-latency: install-dev
	$(PY) benchmarks/result_latency.py

# Small PNGs of the main pages for the README, from a real browser (Debian's chromium).
screenshots: install-dev
	$(PY) -m tests.browser.screenshots --out docs/screenshots

# What C2PA Content Credentials cost per result at 1 MP (docs/benchmarks.md).
bench-c2pa: install-dev
	$(PY) -m benchmarks.c2pa_cost

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
