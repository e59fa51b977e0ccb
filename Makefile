# Two commands matter: `make serve` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PAIRS ?= ../shared/data/tatoeba-cmn-eng/pairs.tsv

.PHONY: serve serve-opus test lint format install install-dev train-demo evaluate bench loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.serve-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-tools.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.serve-installed

install: $(VENV)/.serve-installed
install-dev: $(VENV)/.dev-installed

## serve: install the service's requirements and run gunicorn (port from config or TRANSLATOR_PORT)
serve: install
	$(BIN)/gunicorn -c gunicorn.conf.py

## serve-opus: export Helsinki-NLP/opus-mt-zh-en (needs internet once) and serve it
serve-opus: models/opus-mt-zh-en/manifest.json install
	TRANSLATOR_MODEL_DIR=models/opus-mt-zh-en $(BIN)/gunicorn -c gunicorn.conf.py

models/opus-mt-zh-en/manifest.json: | install-dev
	$(BIN)/python scripts/export_model.py Helsinki-NLP/opus-mt-zh-en --out models/opus-mt-zh-en

## test: install test requirements and run the whole suite
test: install-dev
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## train-demo: retrain and re-export models/demo-zh-en from the Tatoeba pairs (about 2 h on 2 cores)
train-demo: install-dev
	$(BIN)/python scripts/train_demo_model.py --pairs $(PAIRS)

## evaluate: dev-split BLEU of the shipped model through the service's translator
evaluate: install-dev
	$(BIN)/python scripts/train_demo_model.py --pairs $(PAIRS) --stage split
	$(BIN)/python scripts/evaluate.py build/demo/dev.tsv

## bench: engines side by side (PyTorch, optimum, CTranslate2, this project) on the same models
bench: install-dev
	$(BIN)/python scripts/train_demo_model.py --pairs $(PAIRS) --stage split
	$(BIN)/python scripts/bench_engines.py

## loadtest: drive a running service over loopback (start it with `make serve` first)
loadtest: install-dev
	$(BIN)/python scripts/train_demo_model.py --pairs $(PAIRS) --stage split
	$(BIN)/python scripts/loadtest.py --url http://127.0.0.1:$${TRANSLATOR_PORT:-7860}

clean:
	rm -rf build .pytest_cache .ruff_cache
