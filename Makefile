# Two commands: `make dev` runs the local stack, `make test` runs the suite.
# Both build the virtualenv first, from nothing but Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: dev test install clean schema bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

dev: $(STAMP)
	$(PY) -m infra.local

test: $(STAMP)
	$(PY) -m pytest

# The committed schema.graphql is what front ends build against; tests fail when it drifts from the code.
schema: $(STAMP)
	$(PY) -c "from strawberry.printer import print_schema; from api.schema import schema; open('schema.graphql', 'w').write(print_schema(schema) + '\n')"


clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
