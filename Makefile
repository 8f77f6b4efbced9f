# The two commands of the README: `make run` (the courtroom server with an embedded SQLite
# database and the bundled model on http://127.0.0.1:8000) and `make test`.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup setup-test lint

setup:
	@bash scripts/setup.sh run

setup-test:
	@bash scripts/setup.sh test

run: setup
	$(BIN)/courtroom db upgrade
	$(BIN)/courtroom demo seed
	$(BIN)/courtroom statutes import --demo
	$(BIN)/courtroom serve

test: setup-test
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest

lint: setup-test
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy hardware capture transcribe diarize models courtroom_api
