#!/usr/bin/env bash
# The GPU check (issue 15), for one H100 or H200: runs the prepared launch specs of
# bench/results/gpu-check-specs/ (made by bench/gpu-specs.ts from bench/gpu-settings.ts) in their
# priority order (order.txt) with the worker under torchrun, one GPU, within a time budget, and
# keeps every raw log, printing each setting's measured against predicted step time, peak memory
# and MFU (bench/gpu_line.py; the predictions were made beforehand by bench/gpu-specs.ts). Needs
# only Python with CUDA torch (PARAPLAN_PYTHON, else python3): no Node, no network. Where Node
# and a build are present it also prints the full report; elsewhere run
#   node dist/bench/gpu-report.js <raw dir>
# afterwards (the table, the targets judged, a JSON of the figures).
#
#   GPU_CHECK_BUDGET   seconds for all settings (default 300)
#   GPU_CHECK_MIN_LEFT a setting starts only with this many seconds of the budget left (default 45)
#   SETTING_TIMEOUT    seconds at most per setting (default 150)
#   GPU_CHECK_REPORT   0: do not run the Node report at the end (default 1)
#   GPU_CHECK_OUT      raw directory (default $OUT/gpu-check-raw-<device> when $OUT is set, else
#                      bench/results/gpu-check-raw-<device>)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
py="${PARAPLAN_PYTHON:-$(command -v python3)}"
budget="${GPU_CHECK_BUDGET:-300}"
per="${SETTING_TIMEOUT:-150}"
min_left="${GPU_CHECK_MIN_LEFT:-45}"
specs=bench/results/gpu-check-specs

"$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device visible to torch')" || exit 1
device="$("$py" -c "import torch; print(torch.cuda.get_device_name(0))")"
slug="$(printf '%s' "$device" | tr -c 'A-Za-z0-9' '-' | sed 's/--*/-/g; s/-$//')"
out="${GPU_CHECK_OUT:-${OUT:-bench/results}/gpu-check-raw-$slug}"
mkdir -p "$out"

{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1 || echo "$device"
  "$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'capability', '.'.join(map(str, torch.cuda.get_device_capability(0))))"
  if "$py" -c "import torchao.float8" 2>/dev/null; then
    echo "torchao $("$py" -c "import torchao; print(getattr(torchao, '__version__', 'unknown'))")"
  else
    echo "torchao absent (not importable): fp8 settings skipped"
  fi
} | tee "$out/device.txt"
fp8=1
grep -q '^torchao absent' "$out/device.txt" && fp8=0

printf 'setting\tstatus\texit\tseconds\n' > "$out/status.tsv"
note() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$out/status.tsv"; echo "== $1: $2${4:+ (${4} s)}"; }
start=$SECONDS
while read -r name; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  spec="$specs/$name.json"
  if grep -q '"precision": "fp8"' "$spec" && [[ $fp8 == 0 ]]; then
    note "$name" "skipped: torchao not importable" "" ""
    continue
  fi
  left=$(( budget - (SECONDS - start) ))
  if (( left < min_left )); then
    note "$name" "not run: time budget spent" "" ""
    continue
  fi
  limit=$(( left < per ? left : per ))
  t0=$SECONDS
  OMP_NUM_THREADS=8 timeout --kill-after=15 "$limit" "$py" -m torch.distributed.run --standalone \
    --nproc-per-node 1 -m executor.worker --spec "$spec" > "$out/$name.out" 2> "$out/$name.err"
  rc=$?
  took=$(( SECONDS - t0 ))
  if (( rc == 0 )); then status=ok
  elif (( rc == 124 || rc == 137 )); then status="timed out after ${limit} s"
  elif grep -q '"kind":"oom"' "$out/$name.err"; then status="out of memory"
  else status="failed: $(grep -m1 '"event":"error"' "$out/$name.err" | cut -c1-200 | tr '\t' ' ')"
  fi
  note "$name" "$status" "$rc" "$took"
  [[ $rc == 0 ]] && "$py" bench/gpu_line.py "$name" "$out" "$specs/predictions.json" "$device"
done < "$specs/order.txt"
echo "raw logs in $out ($(( SECONDS - start )) s)"

if [[ "${GPU_CHECK_REPORT:-1}" != 0 ]] && command -v node >/dev/null && [[ -f dist/bench/gpu-report.js ]]; then
  node dist/bench/gpu-report.js "$out"
else
  echo "report: node dist/bench/gpu-report.js $out (on a machine with Node and a build)"
fi
