#!/usr/bin/env bash
# The test command from the README: install dev tools, lint, type-check, run the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --dev
VENV=${VENV:-.venv}
"$VENV/bin/ruff" check bot index tests benchmarks
"$VENV/bin/ruff" format --check bot index tests benchmarks
"$VENV/bin/mypy"
"$VENV/bin/python" -m pytest "$@"
