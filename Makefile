# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120

SAMPLES := data/samples/hichina_beian.csv data/samples/hichina_beian_utf8.csv \
	data/samples/winport_shops.jsonl data/samples/hichina_legacy.db

.PHONY: demo test fuzz test-slow test-parts check lint bench clean chromium

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The demo's own target, made afresh each time; the default target (icp_migration.db) and
# any real migration in it are never touched.
DEMO_TARGET := sqlite:///demo.db

demo: $(STAMP)
	rm -f demo.db
	$(BIN)/icp-migrate run $(SAMPLES) --target $(DEMO_TARGET)
	$(BIN)/icp-migrate show --target $(DEMO_TARGET)

check: $(STAMP)
	$(BIN)/ruff check src flows tests $(wildcard bench)
	$(BIN)/mypy

# The report tests open the report in Debian's headless Chromium (as root, like CI).
chromium:
	(command -v chromium && fc-list | grep -q 'Noto Sans CJK') >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-noto-cjk)

# The quick tier; the `slow` ones (10^5 fuzzed lines, killed runs, faults) run in CI after it.
test: $(STAMP) check chromium
	$(BIN)/pytest -n 2 -m "not slow" tests

# Hypothesis over every reader and the rules: at least 10^5 generated lines, counted and printed.
fuzz: $(STAMP)
	$(BIN)/pytest -m slow tests/test_fuzz.py

# The rules and the across-run histories with every decide in parts of 3 records
# (rules/parts.py): a run decided in parts must plan what it plans whole.
test-parts: $(STAMP)
	ICP_MIGRATE_RECORDS_PER_PART=3 $(BIN)/pytest -n 2 -m "not slow" $(PARTS_TESTS)
PARTS_TESTS = tests/test_rules.py tests/test_grouping.py tests/test_ledger.py \
	tests/test_steps.py tests/test_near_names.py tests/test_across_runs.py \
	tests/test_review.py tests/test_explain.py tests/test_preview.py tests/test_parts.py \
	tests/test_part_load.py tests/test_flow.py

# Runs SIGKILLed mid-way, dropped connections, full and read-only targets, scale.
test-slow: $(STAMP)
	$(BIN)/pytest -n 2 -m slow tests --ignore=tests/test_fuzz.py

# Sample sets are generated once into bench/data/ (about 2 min for 1M records).
# `make bench BENCH_SIZES="100000 1000000 10000000"` adds 10M (its set takes about 13 min
# and 6 GB of disk; each of its runs 33–48 min and 4–4.5 GB of memory, each floor 16–21 min;
# the bench refuses a size whose estimated peak would not fit the memory available, see
# docs/performance.md).
BENCH_SIZES ?= 100000 1000000
bench: $(STAMP)
	$(BIN)/python bench/run.py --records $(BENCH_SIZES)

clean:
	rm -rf $(VENV) demo.db demo.db.*lock reports
