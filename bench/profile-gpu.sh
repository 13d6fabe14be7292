#!/usr/bin/env bash
# Profile one H100 or H200 with one command: `paraplan profile` on GPU 0 with the machine's
# CUDA-enabled Python (PARAPLAN_PYTHON, else python3; the project's .venv is CPU-only), written to
# profiles/hardware/measured/<device>.json (device from nvidia-smi's name, e.g. h100-80gb-hbm3),
# with every raw timing beside it in <device>.raw.json. Extra arguments go to paraplan profile
# (e.g. --quick, or --gpus 8 to profile a whole node including its collectives).
#
#   bash bench/profile-gpu.sh            # ~1-2 minutes on one GPU
#   node dist/src/cli.js plan --model gpt3-1.3b --gpus 1 --profile profiles/hardware/measured/h100-80gb-hbm3.json
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run build --silent
export PARAPLAN_PYTHON="${PARAPLAN_PYTHON:-$(command -v python3)}"
"$PARAPLAN_PYTHON" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device for ' + torch.__version__; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))"
name="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1)"
case "$name" in
  *H100* | *H200*) ;;
  *) echo "profile-gpu.sh is for an H100 or H200; nvidia-smi reports \"$name\" (run paraplan profile directly)" >&2; exit 1 ;;
esac
device="$(echo "$name" | tr '[:upper:]' '[:lower:]' | sed -e 's/^nvidia //' -e 's/[^a-z0-9]\{1,\}/-/g' -e 's/^-//' -e 's/-$//')"
mkdir -p profiles/hardware/measured
out="profiles/hardware/measured/${device}.json"
gpus=(--gpus 1)
for a in "$@"; do [[ "$a" == --gpus ]] && gpus=(); done
start=$(date +%s)
node dist/src/cli.js profile --device cuda "${gpus[@]}" --out "$out" --raw "profiles/hardware/measured/${device}.raw.json" "$@"
echo "profile-gpu.sh: $(( $(date +%s) - start )) s; check: node dist/src/cli.js plan --model gpt3-1.3b --gpus 1 --profile $out"
