# sparkexp: two commands on a fresh machine (Python 3.10+ and Java 17):
#   make demo   set up .venv, run a real example experiment on local Spark
#   make test   set up .venv with the dev and frameworks extras, run the whole test suite
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.sparkexp-installed
PYTEST_ARGS ?=
export SPARK_LOCAL_IP ?= 127.0.0.1
export PYSPARK_PYTHON := $(abspath $(BIN))/python
export PYSPARK_DRIVER_PYTHON := $(abspath $(BIN))/python

.PHONY: install demo test lint bench browser clean

$(STAMP): pyproject.toml
	@command -v java >/dev/null || { echo "Java 17 is required (apt-get install openjdk-17-jre-headless)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,frameworks]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

# Headless Chromium for the report tests (Debian's package; needs root or sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The package's docstring examples run first (a session of their own: some set the project root).
test: $(STAMP) browser
	$(BIN)/python -m pytest -q -p no:cacheprovider --timeout=300 --doctest-modules sparkexp
	$(BIN)/python -m pytest -q -p no:cacheprovider --timeout=900 $(PYTEST_ARGS) tests

lint: $(STAMP)
	$(BIN)/ruff check sparkexp tests benchmarks
	$(BIN)/mypy sparkexp

# Every benchmark at a small size (~5 min on 2 cores); figures and full-size commands in
# docs/performance.md. Full size: make bench BENCH_ARGS=
BENCH_ARGS ?= --quick
BENCH := PYTHONPATH=$(CURDIR) timeout 900 $(BIN)/python benchmarks
bench: $(STAMP)
	$(BENCH)/dispatch.py $(BENCH_ARGS)
	$(BENCH)/dispatch.py --cluster $(BENCH_ARGS)
	$(BENCH)/uneven.py $(BENCH_ARGS)
	$(BENCH)/scale.py $(BENCH_ARGS)
	$(BENCH)/tpe_cost.py $(BENCH_ARGS)
	$(BENCH)/early_stopping.py $(BENCH_ARGS)
	$(BENCH)/frameworks.py $(BENCH_ARGS)
	$(BENCH)/mlflow_overhead.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) sparkexp-project build *.egg-info
