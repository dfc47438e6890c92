# Everything installs itself into .venv: a fresh machine needs only python3 (3.11+) and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/emplettes demo

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/extraction.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/crawl.py
	$(BIN)/python bench/adapters.py

clean:
	rm -rf $(VENV) data build *.egg-info
