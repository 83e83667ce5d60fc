# The two commands of the README: `make demo` and `make test`.
# Both create .venv when missing and install the locked dependencies first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-dates bench docs clean

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

# The whole suite under libfaketime at the awkward moments (Europe/Berlin): a leftover read
# of the wall clock anywhere would show. tests/app/test_any_date.py runs faketime itself.
AWKWARD := "2027-03-28 10:00:00" "2028-02-29 12:00:00" "2026-12-31 23:30:00"
test-dates: $(STAMP)
	for moment in $(AWKWARD); do \
		echo "== the suite at $$moment"; \
		TZ=Europe/Berlin faketime -f "@$$moment" $(BIN)/python -m pytest -n 2 --dist loadgroup -q \
			-p no:cacheprovider --deselect tests/app/test_any_date.py || exit 1; \
	done

bench: $(STAMP)
	$(BIN)/python bench/solver.py

docs: $(STAMP)
	$(BIN)/python -m carecal.docs

clean:
	rm -rf $(VENV) carecal.db exports/*.ics exports/*.html exports/*.csv exports/*.xlsx exports/*.pdf
