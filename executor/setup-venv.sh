#!/usr/bin/env bash
# Creates the project's Python environment (.venv) for the executor's worker: torch (CPU build
# unless PARAPLAN_TORCH says otherwise), numpy and pytest. Idempotent: an existing .venv with
# torch is kept. On clusters, point PARAPLAN_PYTHON at an existing interpreter instead.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
torch_req="${PARAPLAN_TORCH:-torch==2.13.0+cpu}"
python="${PYTHON:-python3}"

if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c "import torch, numpy, pytest" 2>/dev/null; then
  echo "paraplan: .venv ready ($("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
  exit 0
fi

"$python" -m venv "$venv"
# Where the machine's pip configuration names package indexes (an offline mirror, say), use
# them as the only indexes: pip's default index may be unreachable and its retries are slow.
extra="$("$python" -m pip config get global.extra-index-url 2>/dev/null || true)"
links="$("$python" -m pip config get global.find-links 2>/dev/null || true)"
args=()
if [[ -n "$extra" ]]; then
  first=1
  for url in $extra; do
    if (( first )); then args+=(--index-url "$url"); first=0; else args+=(--extra-index-url "$url"); fi
  done
fi
[[ -n "$links" ]] && args+=(--find-links "$links")
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${args[@]}" "$torch_req" numpy pytest \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
echo "paraplan: .venv created ($("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
