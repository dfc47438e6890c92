# Everything installs itself into .venv: a fresh machine needs only python3 (3.11+) and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TOOLS  := tools/node_modules/.installed

.PHONY: demo test lint pytest bench bench-portal lighthouse tools clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Browser-quality tools from the npm registry (axe-core for tests/test_accessibility.py,
# Lighthouse for bench/lighthouse.py), pinned by tools/package-lock.json. Without npm the
# accessibility tests skip (under CI they fail: .ci/run installs npm).
tools:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(TOOLS); \
	else echo "npm not found: tools/ not installed, accessibility tests will skip"; fi

$(TOOLS): tools/package.json tools/package-lock.json
	npm ci --prefix tools --no-audit --no-fund --loglevel=error
	touch $@

demo: $(STAMP)
	$(BIN)/emplettes demo

# The suite runs on PYTEST_WORKERS processes (pytest-xdist), each module kept on one worker
# (--dist loadscope) so its module-scoped servers, indexes and crawls are built once, in the
# order of tests/conftest.py (long modules first: --no-loadscope-reorder).
# `make pytest PYTEST_WORKERS=0` runs it in this process (for pdb); PYTEST_ARGS adds options.
PYTEST_WORKERS ?= 4
PYTEST_ARGS    ?=

test: lint pytest

# The Elasticsearch tests run against ELASTICSEARCH_URL, else against the shared loopback
# server (ES_HOME, default ../shared/elasticsearch) started for the run and stopped after;
# with neither they skip, saying why (tests/with-elasticsearch).
pytest: $(STAMP) tools
	tests/with-elasticsearch $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

# Lint and type-check: the same tools, versions and settings as .pre-commit-config.yaml.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Translations: re-extract the catalogue template from the code and the templates (babel.cfg),
# update each language's .po from it, and compile the .mo files EMPLETTES_LANG loads
# (docs/configuration.md#translations). tests/test_messages.py fails when the .pot is behind.
# No header in the .pot (--omit-header): its creation date would change it on every run.
LOCALES := emplettes/locales
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --omit-header \
		-o $(LOCALES)/emplettes.pot .
	@if ls $(LOCALES)/*/LC_MESSAGES/emplettes.po >/dev/null 2>&1; then \
		$(BIN)/pybabel update -D emplettes -d $(LOCALES) -i $(LOCALES)/emplettes.pot --no-wrap && \
		$(BIN)/pybabel compile -D emplettes -d $(LOCALES) --statistics; \
	else echo "no .po yet: pybabel init -D emplettes -d $(LOCALES) -i $(LOCALES)/emplettes.pot -l LANG"; fi

bench: $(STAMP)
	$(BIN)/python bench/extraction.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/reindex.py
	$(BIN)/python bench/crawl.py
	$(BIN)/python bench/adapters.py

# The portal under gunicorn at 1M products, driven by wrk (apt-get install wrk).
bench-portal: $(STAMP)
	$(BIN)/python bench/portal.py

# Lighthouse scores of the home, results and shop pages (needs Chromium and npm).
lighthouse: $(STAMP) tools
	$(BIN)/python bench/lighthouse.py

clean:
	rm -rf $(VENV) data build *.egg-info tools/node_modules .ruff_cache .mypy_cache .pytest_cache
