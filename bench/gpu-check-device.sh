#!/usr/bin/env bash
# Runs the GPU-check launch specs (bench/results/gpu-specs/, made by bench/gpu-specs.ts) with the
# device's own Python and torch, one torchrun per setting; the worker's event lines go to $OUT.
# For machines without Node; where Node is present bench/gpu-check.sh does all of it.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${OUT:-bench/results/gpu-raw}"
mkdir -p "$out"
py="${PARAPLAN_PYTHON:-python3}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/device.txt"
"$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$out/device.txt"
for spec in bench/results/gpu-specs/*.json; do
  name="$(basename "$spec" .json)"
  echo "== $name"
  OMP_NUM_THREADS=4 timeout "${SETTING_TIMEOUT:-170}" "$py" -m torch.distributed.run --standalone --nproc-per-node 1 \
    -m executor.worker --spec "$spec" > "$out/$name.out" 2> "$out/$name.err"
  echo "exit $?"; grep '"event": *"summary"\|"event":"summary"' "$out/$name.out" | cut -c1-300
done
