#!/usr/bin/env bash
# The paraplan engines' launch and activation facts on one GPU (bench/gpu_engine_facts.py), then
# the worker's micro-batch-1 setting of the GPU check (bench/results/gpu-check-specs/
# g13-s2k-mb1-none.json, the one that ran +34 % and +76 % slower than predicted) again with 10
# steps instead of 5, compiled and eager, so that its step time is a mean of 7 timed steps.
# Needs only Python with CUDA torch (PARAPLAN_PYTHON, else python3). Raw output under
# ${OUT:-bench/results}/engine-facts-<device>/.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
py="${PARAPLAN_PYTHON:-$(command -v python3)}"
device="$("$py" -c "import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')")"
slug="$(printf '%s' "$device" | tr -c 'A-Za-z0-9' '-' | sed 's/--*/-/g; s/-$//')"
out="${OUT:-bench/results}/engine-facts-$slug"
mkdir -p "$out"
OMP_NUM_THREADS=8 timeout --kill-after=10 "${FACTS_TIMEOUT:-300}" "$py" bench/gpu_engine_facts.py --out "$out" \
  > "$out/facts.out" 2> "$out/facts.err"
echo "facts: exit $?"; grep -v '^ ' "$out/facts.out" | cut -c1-400
for mode in compiled eager; do
  spec="$out/g13-s2k-mb1-none-10-$mode.json"
  "$py" - "$spec" "$mode" <<'PY'
import json, sys
d = json.load(open("bench/results/gpu-check-specs/g13-s2k-mb1-none.json"))
d["training"]["steps"] = 10
d["execution"]["compile"] = sys.argv[2] == "compiled"
d["runDir"] = "runs/engine-facts-" + sys.argv[2]
json.dump(d, open(sys.argv[1], "w"), indent=1)
PY
  OMP_NUM_THREADS=8 timeout --kill-after=10 "${RUN_TIMEOUT:-90}" "$py" -m torch.distributed.run --standalone \
    --nproc-per-node 1 -m executor.worker --spec "$spec" > "$out/g13-mb1-$mode.out" 2> "$out/g13-mb1-$mode.err"
  echo "worker $mode: exit $?"
  grep -ho '"stepTimes":\[[^]]*\],"timedSteps":\[[^]]*\]' "$out/g13-mb1-$mode.out" "$out/g13-mb1-$mode.err" | head -1
done
