# make run   set up .venv if needed, then run the pipeline on sample_data/ into output/
# make test  set up .venv if needed, then run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.newsbeam-installed

.PHONY: setup run test clean

setup: $(STAMP)

$(STAMP): setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m pipelines.news_pipeline --input sample_data --output output

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf output .pytest_cache build *.egg-info
