# Two commands do everything from a fresh clone: `make run` and `make test`.
# Both create the virtualenv and install pinned dependencies on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test lint install db demo clean bench bench-quick bench-tools

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamp is rebuilt whenever a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

db: install
	$(FLASK) db upgrade

demo: db
	$(FLASK) seed-demo

# The web server and, beside it, the outbox sender (in development it prints each mail to the log)
# and the SLA sweep once a minute: the same three processes a production set-up runs.
run: demo
	@echo "Casebridge is starting on http://$(HOST):$(PORT)  (Ctrl-C stops it)"
	@$(FLASK) outbox send --loop & sender=$$!; \
	$(FLASK) sla sweep --every 60 > instance/sweep.log 2>&1 & sweep=$$!; \
	trap 'kill $$sender $$sweep 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

# Benchmarks (bench/README.md): seed the scratch PostgreSQL database BENCH_DB, serve the portal and a
# bare-Flask ceiling under gunicorn, drive every page with wrk, write bench/RESULTS.md.
BENCH_DB  ?= postgresql+psycopg://root@127.0.0.1/casebridge_bench
BENCH_ARGS ?=

bench-tools:
	@command -v wrk >/dev/null || apt-get install -y wrk || (apt-get update && apt-get install -y wrk)

bench-quick: install bench-tools
	$(BIN)/python bench/run.py --url $(BENCH_DB) --scales 10000 --duration 3 $(BENCH_ARGS)

bench: install bench-tools
	$(BIN)/python bench/run.py --url $(BENCH_DB) --scales 10000,100000,1000000 --duration 10 $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
