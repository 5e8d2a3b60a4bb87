#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU and the gpu profile's jars in the Maven cache,
# runs every GPU-tagged test (-Dgroups=gpu: TensorRtGpuTest, FP32 engines of the demo model and
# DeepLab, plans listed in the manifest, cache, corrupt plan, threads, load/close memory;
# TensorRtPrecisionGpuTest, FP16 engines of the demo model and DeepLab and the INT8 Q/DQ engine
# of the Fashion-MNIST classifier against ONNX Runtime), builds DeepLab's engines and benchmarks
# it (tftrt bench, with the H2D / GPU / D2H split from CUDA events), and prints one table. Each
# stage has its own time limit (330 + 150 + 90 s), so the whole stays under 10 minutes on one GPU.
#   scripts/gpu-check.sh            # offline (mvn -o): the gpu profile's jars must be cached
#   MVN_OFFLINE= scripts/gpu-check.sh   # let Maven download them
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
offline="${MVN_OFFLINE--o}"
work="$(mktemp -d "${TMPDIR:-/tmp}/tftrt-gpu-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
declare -a rows

row() { rows+=("$(printf '%-34s %-8s %s' "$1" "$2" "$3")"); }

if ! nvidia-smi -L >"$work/smi" 2>&1; then
  echo "gpu-check: nvidia-smi finds no NVIDIA GPU; nothing to check here." >&2
  exit 2
fi
gpu="$(head -1 "$work/smi")"
driver="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)"

# 1. GPU-tagged tests (the surefire reports say which ran, failed or were skipped, and why).
rm -rf target/surefire-reports
start=$SECONDS
timeout 330 mvn -B -ntp $offline -q -Pgpu test -Dgroups=gpu -Dsurefire.failIfNoSpecifiedTests=false \
  >"$work/tests.log" 2>&1
rc=$?
t=$((SECONDS - start))
attr() { grep -o "<testsuite [^>]*" "$2" | head -1 | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
for f in target/surefire-reports/TEST-*.xml; do
  [ -f "$f" ] || continue
  name="$(basename "$f" .xml | sed 's/^TEST-dev\.tftrt\.//')"
  tests="$(attr tests "$f")"; fail="$(attr failures "$f")"; err="$(attr errors "$f")"; skip="$(attr skipped "$f")"
  [ "${tests:-0}" -gt 0 ] || continue
  status=ok; [ "$skip" = "$tests" ] && status=skipped; [ "$((fail + err))" -gt 0 ] && status=FAILED
  row "$name" "$status" "$tests tests, $fail failed, $err errors, $skip skipped"
done
[ $rc -eq 124 ] && row "GPU tests" "TIMEOUT" "over 330 s"
[ $rc -ne 0 ] && [ $rc -ne 124 ] && row "GPU tests (mvn)" "FAILED" "exit $rc, see below"
row "GPU tests, total" "" "${t} s"

# 2. DeepLab: convert, build its engines, benchmark original vs converted.
deeplab=../shared/models/deeplab-mnv2-portrait/frozen_inference_graph.pb
if [ -f "$deeplab" ]; then
  export TFTRT_GPU=1
  start=$SECONDS
  if timeout 150 bin/tftrt convert "$deeplab" -o "$work/deeplab" --shape ImageTensor=1,257,257,3 --build \
      >"$work/convert.log" 2>&1; then
    row "DeepLab convert --build" "ok" "$((SECONDS - start)) s"
    if bin/tftrt bench --help >/dev/null 2>&1; then
      start=$SECONDS
      if timeout 90 bin/tftrt bench "$deeplab" --vs "$work/deeplab" --backend tensorrt --batch 1 \
          --warmup 20 --seconds 10 --json "$work/bench.json" >"$work/bench.log" 2>&1; then
        row "DeepLab bench (TensorRT vs TF)" "ok" "$((SECONDS - start)) s; table below"
      else
        row "DeepLab bench" "FAILED" "see below"
      fi
    else
      row "DeepLab bench" "absent" "this checkout has no tftrt bench"
    fi
  else
    row "DeepLab convert --build" "FAILED" "see below"
  fi
else
  row "DeepLab" "absent" "$deeplab not found"
fi

echo
echo "tftrt GPU check on $gpu (driver ${driver:-?})"
printf '%-34s %-8s %s\n' "check" "result" "detail"
printf '%s\n' "${rows[@]}"
[ -f "$work/bench.log" ] && { echo; cat "$work/bench.log"; }
failed=0
for r in "${rows[@]}"; do case "$r" in *FAILED*|*TIMEOUT*) failed=1 ;; esac; done
if [ $failed = 1 ]; then
  echo; echo "--- logs"; tail -40 "$work/tests.log"; [ -f "$work/convert.log" ] && tail -20 "$work/convert.log"
  exit 1
fi
