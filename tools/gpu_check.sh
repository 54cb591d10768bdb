#!/usr/bin/env bash
# gpu_check.sh — every check of the CUDA backend that needs a GPU, and its benchmark, in one run
# (< 8 minutes on one H200 with 16 cores). Writes a log and the benchmark JSON lines to a folder.
#
#   tools/gpu_check.sh [DIR]     DIR: where the log goes (default: $OUT if set, else gpu_check_out/)
#
# Steps (each under its own timeout; the log says what ran, what failed, what was skipped and why):
#   1. build    make CUDA=1 -j$(nproc) all cuda-tests  (if the build fails but carried binaries exist
#               in build-cuda/, they are used and the build failure is still counted)
#   2. device   is a CUDA device usable? (nvidia-smi, then lmscope's own check); without one the
#               remaining steps are skipped and the script fails
#   3. tests    build-cuda/tests/cuda/test_cuda_kernels (every op vs the reference) and
#               test_cuda_model (loss + gradients vs the CPU, 100-step curve, decoding, scoring,
#               bit-exact resume), tests/cuda/cli_device.sh (train / resume / sample --device cuda)
#   4. bench    GPT-2 124M (L12 C768 V50257, T1024, B16): lmscope --device cuda in fp32 and in TF32
#               (LMS_CUDA_TF32=1), tokens/s and MFU against the GPU's dense peak for that precision
#   5. torch    the PyTorch baseline (bench/torch_cuda_step.py: bf16 autocast, fused AdamW, SDPA),
#               eager, then torch.compile under a timeout, then fp32/TF32 eager for the same-precision
#               comparison; skipped if torch with CUDA is not importable
# Exit: 0 every step that ran passed and a device was present; 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
DIR=${1:-${OUT:-gpu_check_out}}
mkdir -p "$DIR"
LOG="$DIR/gpu_check.log"
: >"$LOG"
exec > >(tee -a "$LOG") 2>&1
tee_pid=$!
T0=$(date +%s)
failed=() skipped=() passed=()
JOBS=$(nproc 2>/dev/null || echo 4)
BUILD=build-cuda
BIN=$BUILD/lmscope
SHAPE=(--layers 12 --heads 12 --dim 768 --vocab 50257 --batch 16 --ctx 1024)
BUDGET=${GPU_CHECK_BUDGET_S:-450} # stop starting optional steps after this many seconds

elapsed() { echo $(($(date +%s) - T0)); }
say() { printf '[%4ss] %s\n' "$(elapsed)" "$*"; }
# run NAME TIMEOUT CMD...: runs it, records pass/fail, keeps its output in the log
run() {
  local name=$1 tmo=$2; shift 2
  say "=== $name: $*"
  local s rc
  s=$(date +%s)
  timeout --kill-after=10 "$tmo" "$@"
  rc=$?
  if [ $rc -eq 0 ]; then passed+=("$name"); say "--- $name: ok ($(($(date +%s) - s)) s)"
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then failed+=("$name (timed out after ${tmo}s)"); say "--- $name: TIMED OUT"
  else failed+=("$name (exit $rc)"); say "--- $name: FAILED (exit $rc)"; fi
  return $rc
}
skip() { skipped+=("$1: $2"); say "--- SKIPPED $1: $2"; }
over_budget() { [ "$(elapsed)" -ge "$BUDGET" ]; }
# field NAME < json-line: a number from one JSON line (no jq needed)
field() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2 | tr -d ' "'; }
finish() {
  say "=== summary ($(elapsed) s)"
  for p in "${passed[@]}"; do echo "  passed : $p"; done
  for s in "${skipped[@]}"; do echo "  skipped: $s"; done
  for f in "${failed[@]}"; do echo "  FAILED : $f"; done
  [ -s "$DIR/bench.jsonl" ] && { echo "  benchmark lines: $DIR/bench.jsonl"; cat "$DIR/bench.jsonl"; }
  echo "log: $LOG"
  local code=1
  if [ ${#failed[@]} -eq 0 ] && [ "${device_ok:-0}" = 1 ]; then echo "gpu_check: PASSED"; code=0
  else echo "gpu_check: FAILED"; fi
  exec 1>&- 2>&-
  wait "$tee_pid" 2>/dev/null # the log is complete before the caller collects it
  exit $code
}

say "gpu_check in $(pwd), log $LOG, $(date -u +%FT%TZ), $JOBS cores"
{ uname -a; if command -v nvidia-smi >/dev/null; then nvidia-smi; fi
  "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" --version; cc --version | head -1; git log --oneline -1; } 2>&1 | sed 's/^/  /'

# 1. build
if ! run build 300 make CUDA=1 -j"$JOBS" all cuda-tests; then
  if [ -x "$BIN" ] && [ -x "$BUILD/tests/cuda/test_cuda_kernels" ] && [ -x "$BUILD/tests/cuda/test_cuda_model" ]; then
    say "the build failed; continuing with the binaries already in $BUILD/ (carried?) to learn what else fails"
  else
    skip "everything after the build" "no binaries in $BUILD/"
    finish
  fi
fi

# 2. device
device_ok=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  say "nvidia-smi: $(nvidia-smi -L | head -4 | tr '\n' ' ')"
else
  say "nvidia-smi: not found or no GPU listed"
fi
if out=$("$BIN" bench --device cuda --layers 1 --heads 1 --dim 8 --vocab 16 --batch 1 --ctx 4 --steps 1 --warmup 0 2>&1); then
  device_ok=1
  passed+=("device smoke (1-layer training step on the CUDA table)")
  say "device: usable ($(printf '%s' "$out" | field kernels))"
else
  printf '%s\n' "$out"
  failed+=("device: no usable CUDA device")
  skip "tests, benchmark, torch" "no usable CUDA device (see the message above)"
  finish
fi

# 3. tests
run test_cuda_kernels 120 "$BUILD/tests/cuda/test_cuda_kernels"
run test_cuda_model 240 "$BUILD/tests/cuda/test_cuda_model"
run cli_device 180 env LMSCOPE="$BIN" tests/cuda/cli_device.sh

# 4. benchmark: lmscope
: >"$DIR/bench.jsonl"
peak_of() { # dense TFLOP/s of this GPU for a precision (H100/H200 SXM), 0 if unknown
  local name; name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
  case "$name:$1" in
    *H100*:bf16|*H200*:bf16) echo 989.4 ;; *H100*:tf32|*H200*:tf32) echo 494.7 ;;
    *H100*:fp32|*H200*:fp32) echo 66.9 ;; *) echo 0 ;;
  esac
}
bench_lmscope() { # precision env...
  local prec=$1; shift
  local f="$DIR/lmscope_$prec.json"
  if run "bench lmscope $prec" 150 env "$@" "$BIN" bench --device cuda "${SHAPE[@]}" --steps 5 --warmup 2 \
      --ceiling-size 0 >"$f"; then
    local tps gf peak
    tps=$(field tokens_per_s <"$f"); gf=$(field gflops <"$f"); peak=$(peak_of "$prec")
    say "lmscope $prec: $tps tokens/s, $gf GFLOP/s, MFU $(awk -v g="$gf" -v p="$peak" 'BEGIN{if(p>0)printf "%.3f (of %s TFLOP/s %s)", g/1000/p, p, "'"$prec"'"; else print "n/a (unknown GPU peak)"}'), bf16-peak MFU $(awk -v g="$gf" -v p="$(peak_of bf16)" 'BEGIN{if(p>0)printf "%.3f", g/1000/p; else print "n/a"}')"
    sed "s/^{/{\"impl\":\"lmscope\",\"precision\":\"$prec\",/" "$f" >>"$DIR/bench.jsonl"
  else
    cat "$f"
  fi
}
bench_lmscope fp32 LMS_CUDA_TF32=0
if over_budget; then skip "bench lmscope tf32" "over the time budget"; else bench_lmscope tf32 LMS_CUDA_TF32=1; fi

# 5. benchmark: PyTorch
if ! command -v python3 >/dev/null; then
  skip torch "python3 not found"
elif ! why=$(python3 -c 'import torch; assert torch.cuda.is_available(), "torch %s sees no CUDA device" % torch.__version__; print(torch.__version__)' 2>&1); then
  skip torch "torch with CUDA not importable: $(printf '%s' "$why" | tail -1)"
else
  say "torch $why"
  torch_run() { # name timeout args...
    local name=$1 tmo=$2; shift 2
    if over_budget; then skip "$name" "over the time budget"; return; fi
    if run "$name" "$tmo" python3 bench/torch_cuda_step.py "${SHAPE[@]}" --steps 10 --warmup 3 "$@" >"$DIR/$name.json"; then
      cat "$DIR/$name.json" >>"$DIR/bench.jsonl"
      say "$name: $(field tokens_per_s <"$DIR/$name.json") tokens/s, MFU $(field mfu <"$DIR/$name.json")"
    else
      cat "$DIR/$name.json"
    fi
  }
  torch_run torch_bf16_eager 120 --precision bf16
  torch_run torch_bf16_compile 180 --precision bf16 --compile
  torch_run torch_fp32_eager 90 --precision fp32
  torch_run torch_tf32_eager 90 --precision tf32
fi
finish
