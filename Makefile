# FusionX-Lite: every command creates or reuses the virtual environment in .venv first.
#   make run    execute the notebook course on the bundled default data -> outputs/
#   make test   the test suite (unit tests, notebooks under papermill, nbval)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test bench experiment experiment-quick notebooks memory lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m fusionx_lite.course --out outputs

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/bench_model.py
	$(PY) benchmarks/bench_data.py
	$(PY) benchmarks/bench_train.py

experiment: $(STAMP)
	$(PY) -m fusionx_lite experiment --preset lite --out runs/experiment

experiment-quick: $(STAMP)
	$(PY) -m fusionx_lite experiment --quick --out runs/experiment-quick

notebooks: $(STAMP)
	$(PY) notebooks/build.py
	$(PY) -m fusionx_lite.course --in-place

memory: $(STAMP)
	$(PY) -m fusionx_lite.course --measure-memory

lint: $(STAMP)
	$(VENV)/bin/ruff check fusionx_lite tests benchmarks data_scripts checkpoints notebooks/build.py
	$(VENV)/bin/ruff format --check fusionx_lite tests benchmarks data_scripts checkpoints notebooks/build.py

clean:
	rm -rf outputs runs .pytest_cache
