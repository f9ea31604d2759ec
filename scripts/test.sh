#!/usr/bin/env bash
# The test command from the README: install dev tools, lint, type-check, check the layers, run the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --dev
VENV=${VENV:-.venv}
"$VENV/bin/ruff" check bot index tests benchmarks
"$VENV/bin/ruff" format --check bot index tests benchmarks
"$VENV/bin/mypy"
"$VENV/bin/lint-imports"  # the layer contract in pyproject.toml ([tool.importlinter])
"$VENV/bin/python" -m pytest "$@"
