# One-command set-up. `make train` and `make test` create .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EPOCHS ?= 5
DATASET_DIR := /usr/share/datasets/fashion-mnist

.PHONY: train test install install-fast install-test dataset chromium clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.fast: $(VENV)/.base
	$(PY) -m pip install --quiet -e '.[fast]'
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.base
install-fast: $(VENV)/.fast
install-test: $(VENV)/.test

## dataset: Fashion-MNIST from Debian's package when apt is available (else it is searched/fetched)
dataset:
	@if [ ! -d $(DATASET_DIR) ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Fashion-MNIST (apt-get install dataset-fashion-mnist)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q dataset-fashion-mnist >/dev/null; \
	  else sudo apt-get install -y -q dataset-fashion-mnist >/dev/null; fi; \
	fi

## chromium: the headless browser the HTML report test renders with (Debian's package)
chromium:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Chromium (apt-get install chromium) for the HTML report test"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get install -y -q chromium >/dev/null || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q chromium >/dev/null; }; \
	fi

## train: the main job: seed003-cnn on Fashion-MNIST with a progress bar, then test accuracy and plots
train: $(VENV)/.fast dataset
	$(PY) -m layerwise train --model seed003-cnn --dataset fashion-mnist --epochs $(EPOCHS)

## test: the whole suite (parity tests against torch 2.13.0 included)
test: $(VENV)/.test chromium
	$(PY) -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
