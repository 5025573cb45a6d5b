# The two commands of the README: `make run` and `make test`. Both set everything up from a
# fresh clone: virtual environment, locked dependencies, translations, databases.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.lock | cut -c1-12)
MANAGE := $(PY) manage.py
DATABASES := default warehouse vault

.PHONY: run test lint format messages install migrate demo bench lock clean

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (set PYTHON=...)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

messages: install
	$(MANAGE) compilemessages --ignore=.venv --ignore=var -v 0

migrate: messages
	@mkdir -p var
	@for db in $(DATABASES); do $(MANAGE) migrate --database=$$db --no-input -v 0 || exit 1; done

demo: migrate
	$(MANAGE) load_demo
	$(MANAGE) load_demo_projects
	$(MANAGE) generate_warehouse --size XS --seed 1 --if-empty
	$(MANAGE) load_demo_oppositions

# The demo's published project can be provisioned at once: `make run` shortens the information
# window (TRA-09: 30 days by default, as in production) to 0 days unless it is set.
run demo: export EDS_INFORMATION_WINDOW_DAYS ?= 0

run: demo
	$(MANAGE) serve_demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The coverage summary lists the modules not fully covered (term:skip-covered).
COVERAGE := --cov=eds_portal --cov=projects --cov=access --cov=warehouse --cov-report=term:skip-covered

test: messages lint
	DJANGO_ENV=test $(PY) -m pytest $(COVERAGE) $(PYTEST_ARGS)

# Benchmarks on PostgreSQL when DATABASE_URL points to it (default 127.0.0.1); BENCH_SIZE=S for
# the full-size generator figure. Results in bench/results/*.json.
bench: messages
	$(PY) -m bench

# Regenerates requirements.lock from the direct dependencies of pyproject.toml.
lock:
	rm -rf /tmp/eds-lock-venv && $(PYTHON) -m venv /tmp/eds-lock-venv
	/tmp/eds-lock-venv/bin/pip install --quiet --upgrade pip
	$(PYTHON) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["test"]))' > /tmp/eds-lock-requirements.txt
	/tmp/eds-lock-venv/bin/pip install --quiet -r /tmp/eds-lock-requirements.txt
	{ echo "# Exact versions installed by make (generated with: make lock). Direct dependencies: pyproject.toml."; \
	  /tmp/eds-lock-venv/bin/pip freeze | grep -v '^pip==' ; } > requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
