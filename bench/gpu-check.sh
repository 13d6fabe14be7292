#!/usr/bin/env bash
# The planner's GPU check, for one H100 or H200: see bench/gpu-check.ts. Uses the machine's
# CUDA-enabled Python (PARAPLAN_PYTHON, else python3) rather than the CPU-only .venv.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run build --silent
export PARAPLAN_PYTHON="${PARAPLAN_PYTHON:-$(command -v python3)}"
"$PARAPLAN_PYTHON" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
node dist/bench/gpu-check.js
