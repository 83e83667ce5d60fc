# The two commands of the README: `make demo` and `make test`.
# Both create .venv when missing and install the locked dependencies first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench docs clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	# the project itself, built with the locked setuptools rather than whatever is newest
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/carecal demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy carecal solver
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

bench: $(STAMP)
	$(BIN)/python bench/solver.py

docs: $(STAMP)
	$(BIN)/python -m carecal.docs

clean:
	rm -rf $(VENV) carecal.db exports/*.ics exports/*.html exports/*.csv exports/*.xlsx exports/*.pdf
