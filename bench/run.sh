#!/usr/bin/env bash
# run.sh — `make bench`: lmscope's training step against PyTorch's on three GPT-2 shapes, plus
# KV-cache decoding. Benchmarks, not tests: nothing here passes or fails on a number.
#
#   bench/run.sh                       everything (about 10 minutes on 2 cores: fp32 and bf16)
#   REPEATS=3 bench/run.sh             alternate lmscope / PyTorch 3 times per shape, quote medians
#   SHAPES="c" THREADS=2 bench/run.sh  one shape
#   PRECISIONS=fp32 bench/run.sh       fp32 only (default "fp32 bf16": bf16 = lmscope --precision bf16
#                                      vs PyTorch bf16 autocast; bf16 rows only where the CPU has it)
#   LMSCOPE=path/to/lmscope            the binary (default: $BUILD/lmscope, BUILD defaults to build)
#
# Shapes (a-c: heads of 64 dims):
#   a  GPT-2 124M   L12 C768 NH12 V50257  B4  T64
#   b               L6  C384 NH6  V50257  B8  T256
#   c               L4  C256 NH4  V8192   B16 T256   (+ decoding at batch 1, T=256)
#   d  sweep-sized  L2  C64  NH2  V4096   B32 T128   (heads of 32 dims)
#   e  sweep-sized  L4  C128 NH4  V4096   B16 T128   (heads of 32 dims)
# Each run prints one JSON line (kept in $OUT, default $BUILD/bench.jsonl); the table at the end
# takes, per shape and implementation, the median over repeats of each run's median step.
# PyTorch runs only where /usr/bin/python3 imports torch, with ATEN_CPU_CAPABILITY=avx512
# OMP_WAIT_POLICY=PASSIVE and torch.set_num_threads($THREADS). lmscope runs with the same
# OMP_WAIT_POLICY (override with LMS_WAIT=ACTIVE): on a shared machine, threads that spin while
# waiting for a descheduled partner cost far more than a futex wake-up costs on a quiet one.
# Both sides run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (this environment sets them to
# pin OpenBLAS to its AVX2 kernels; tests and CI keep them); lmscope's lines name the OpenBLAS
# core it ran ("blas_core").
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LMSCOPE=${LMSCOPE:-$BUILD/lmscope}
THREADS=${THREADS:-2}
REPEATS=${REPEATS:-1}
SHAPES=${SHAPES:-"a b c d e"}
OUT=${OUT:-$BUILD/bench.jsonl}
PRECISIONS=${PRECISIONS:-"fp32 bf16"}
LMS_WAIT=${LMS_WAIT:-PASSIVE}
PY=/usr/bin/python3
[ -x "$LMSCOPE" ] || { echo "bench: $LMSCOPE not found; run 'make' first (or set LMSCOPE)" >&2; exit 2; }
have_torch=0
if [ -x "$PY" ] && "$PY" -c "import torch" 2>/dev/null; then have_torch=1; fi
mkdir -p "$(dirname "$OUT")"
: > "$OUT"

shape_args() {
  case "$1" in
    a) echo "--layers 12 --heads 12 --dim 768 --vocab 50257 --batch 4 --ctx 64 --steps ${STEPS_A:-7} --warmup 2" ;;
    b) echo "--layers 6 --heads 6 --dim 384 --vocab 50257 --batch 8 --ctx 256 --steps ${STEPS_B:-7} --warmup 2" ;;
    c) echo "--layers 4 --heads 4 --dim 256 --vocab 8192 --batch 16 --ctx 256 --steps ${STEPS_C:-10} --warmup 2" ;;
    d) echo "--layers 2 --heads 2 --dim 64 --vocab 4096 --batch 32 --ctx 128 --steps ${STEPS_D:-20} --warmup 3" ;;
    e) echo "--layers 4 --heads 4 --dim 128 --vocab 4096 --batch 16 --ctx 128 --steps ${STEPS_E:-20} --warmup 3" ;;
    *) echo "bench: unknown shape '$1' (a, b, c, d or e)" >&2; exit 2 ;;
  esac
}

echo "bench: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "bench: $LMSCOPE, $THREADS threads, OMP_WAIT_POLICY=$LMS_WAIT, $REPEATS repeat(s), torch: $([ $have_torch = 1 ] && echo yes || echo 'not available')" >&2
for s in $SHAPES; do
  args=$(shape_args "$s")
  for r in $(seq "$REPEATS"); do for p in $PRECISIONS; do
    # bf16 only where this CPU and build have it (bench --precision bf16 says why not, exit 2)
    [ "$p" = bf16 ] && ! "$LMSCOPE" bench --precision bf16 --steps 1 --warmup 0 --layers 1 --dim 16 --heads 1 --vocab 16 --batch 1 --ctx 4 --ceiling-size 0 >/dev/null && continue
    echo "bench: shape $s, repeat $r, $p: lmscope" >&2
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=$LMS_WAIT "$LMSCOPE" bench $args --threads "$THREADS" --precision "$p" | sed "s/^{/{\"shape\":\"$s\",\"impl\":\"lmscope\",/" >> "$OUT"
    if [ $have_torch = 1 ]; then
      echo "bench: shape $s, repeat $r, $p: pytorch" >&2
      env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ATEN_CPU_CAPABILITY=avx512 OMP_WAIT_POLICY=PASSIVE "$PY" bench/torch_step.py $args --threads "$THREADS" --precision "$p" \
        | sed "s/^{/{\"shape\": \"$s\", /" >> "$OUT"
    fi
  done; done
done
echo "bench: decoding, shape c, batch 1" >&2
for r in $(seq "$REPEATS"); do
  for w in "" --bf16; do
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=$LMS_WAIT "$LMSCOPE" bench --layers 4 --heads 4 --dim 256 --vocab 8192 --ctx 256 --sample $w --steps 9 --warmup 1 \
      --threads "$THREADS" | sed 's/^{/{"shape":"c","impl":"lmscope",/' >> "$OUT"
  done
done

"$PY" - "$OUT" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(xs): return statistics.median(xs) if xs else None
for prec in ["fp32", "bf16"]:
  P = lambda r: r.get("precision", "fp32") == prec
  if not any(r["mode"] == "train" and P(r) for r in rows): continue
  print(f"\nTraining step (forward + backward + AdamW, {prec}{', PyTorch: bf16 autocast' if prec == 'bf16' else ''}), medians over repeats of median steps:")
  hdr = f"{'shape':5} {'lmscope tok/s':>13} {'pytorch tok/s':>13} {'ratio':>6} {'GFLOP/s':>8} {'ceiling':>8} {'of ceil':>7} {'bf16 ceil':>9} {'of bf16':>7} {'peak RSS MB':>11} {'planned MB':>10} {'RSS/plan':>8} {'torch RSS MB':>12}"
  print(hdr); print("-" * len(hdr))
  for s in ["a", "b", "c", "d", "e"]:
    ours = [r for r in rows if r.get("shape") == s and r.get("impl") == "lmscope" and r["mode"] == "train" and P(r)]
    pt = [r for r in rows if r.get("shape") == s and r.get("impl") == "pytorch" and P(r)]
    if not ours: continue
    o = med([r["tokens_per_s"] for r in ours]); p = med([r["tokens_per_s"] for r in pt])
    g = med([r["gflops"] for r in ours]); c = med([r["ceiling_gflops"] for r in ours])
    c16 = med([r.get("bf16_ceiling_gflops", 0) for r in ours])
    rss = med([r["peak_rss_bytes"] for r in ours]) / 2**20; plan = ours[0]["planned_bytes"] / 2**20
    prss = med([r["peak_rss_bytes"] for r in pt]) / 2**20 if pt else None
    fmt = lambda v, f: (f % v) if v is not None else "-"
    print(f"{s:5} {o:13.1f} {fmt(p, '%13.1f'):>13} {fmt(o / p if p else None, '%6.2f'):>6} {g:8.1f} {c:8.1f} {g / c:7.2f} {fmt(c16 or None, '%9.1f'):>9} {fmt(g / c16 if c16 else None, '%7.2f'):>7} {rss:11.0f} {plan:10.0f} {rss / plan:8.2f} {fmt(prss, '%12.0f'):>12}")
for s in ["a", "b", "c"]:
    sp = [med([r["tokens_per_s"] for r in rows if r.get("shape") == s and r.get("impl") == "lmscope" and r["mode"] == "train" and r.get("precision", "fp32") == q] or [0]) for q in ["fp32", "bf16"]]
    if sp[0] and sp[1]: print(f"shape {s}: lmscope bf16 / fp32 = {sp[1] / sp[0]:.2f}x (target >= 1.5)")
for w in ["fp32", "bf16"]:
    smp = [r for r in rows if r["mode"] == "sample" and r.get("weights") == w]
    if smp:
        print(f"KV-cache decoding, shape c, batch 1, {smp[0]['ctx']} tokens per sequence, {w} weights: "
              f"{med([r['tokens_per_s'] for r in smp]):.0f} tokens/s (median; target >= 5000)")
cores = {i: sorted({r.get("blas_core") or "?" for r in rows if r.get("impl") == i and r.get("mode") == "train"}) for i in ("lmscope", "pytorch")}
print("OpenBLAS kernel each side ran: " + ", ".join(f"{i} {'/'.join(c)}" for i, c in cores.items() if c))
print(f"raw results: {sys.argv[1]}")
EOF
