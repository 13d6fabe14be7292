#!/usr/bin/env bash
# Held-out runs for the paraplan engines' measured figures (bench/gpu-engine-facts.sh): GPU-check
# settings whose logs no figure was taken from, run by the worker under torchrun on one GPU.
#   l3b-s2k-mb4-full, g13-s2k-mb4-none        (bench/results/gpu-check-specs, compiled)
#   l3b-s2k-mb4-none-eager                    (l3b-s2k-mb4-none with compile off: the eager Llama
#                                              block, whose activations the engines' list changed most)
# Raw logs in the gpu-check layout (device.txt, status.tsv, <setting>.out/.err) under
# ${OUT:-bench/results}/gpu-holdout-<device>/, for node dist/bench/gpu-report.js.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
py="${PARAPLAN_PYTHON:-$(command -v python3)}"
specs=bench/results/gpu-check-specs
device="$("$py" -c "import torch; print(torch.cuda.get_device_name(0))")" || exit 1
slug="$(printf '%s' "$device" | tr -c 'A-Za-z0-9' '-' | sed 's/--*/-/g; s/-$//')"
out="${OUT:-bench/results}/gpu-holdout-$slug"
mkdir -p "$out"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1
  "$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
  echo "torchao absent (not checked)"; } > "$out/device.txt"
"$py" - "$specs/l3b-s2k-mb4-none.json" "$out/l3b-s2k-mb4-none-eager.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["execution"]["compile"] = False
d["runDir"] = "runs/gpu-holdout-l3b-s2k-mb4-none-eager"
json.dump(d, open(sys.argv[2], "w"), indent=1)
PY
printf 'setting\tstatus\texit\tseconds\n' > "$out/status.tsv"
for name in g13-s2k-mb4-none l3b-s2k-mb4-full l3b-s2k-mb4-none-eager; do
  spec="$specs/$name.json"; [[ -f "$spec" ]] || spec="$out/$name.json"
  t0=$SECONDS
  OMP_NUM_THREADS=8 timeout --kill-after=10 "${RUN_TIMEOUT:-80}" "$py" -m torch.distributed.run --standalone \
    --nproc-per-node 1 -m executor.worker --spec "$spec" > "$out/$name.out" 2> "$out/$name.err"
  rc=$?
  printf '%s\t%s\t%s\t%s\n' "$name" "$([[ $rc == 0 ]] && echo ok || echo "exit $rc")" "$rc" "$(( SECONDS - t0 ))" >> "$out/status.tsv"
  grep -o '"summary","measured":{"stepTime":[0-9.]*' "$out/$name.out" | head -1 | sed "s/^/$name /"
  grep -o '"peakMemory":[0-9]*' "$out/$name.out" | head -1
done
