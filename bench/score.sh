#!/usr/bin/env bash
# score.sh — forward-only scoring against the training step on the same shapes, and the time of
# `eval --suites all` on a (c)-shaped model. Benchmarks, not tests: nothing passes or fails here.
#
#   bench/score.sh                 shapes a b c, 3 alternating repeats (about 4 minutes on 2 cores)
#   SHAPES=c REPEATS=5 bench/score.sh
#
# Both sides run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (this environment pins OpenBLAS
# to its AVX2 kernels with them; tests keep them) and print the OpenBLAS core they ran on.
# Training: `lmscope bench` (zero_grad + forward + backward + AdamW); scoring: `lmscope bench
# --score` (weights-only model, one scorer, every position scored: the worst case). Both report
# the median over their steps; the table takes the median over repeats. Target: scoring >= 3x the
# training step's tokens/s (forward FLOPs are exactly a third of training's).
# eval: a 1-step run of L4 H4 C256 T256 on the embedded corpus with an 8192-token BPE (speed does
# not depend on training), then `eval --suites all` timed REPEATS times. Target: < 30 s.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
L=${LMSCOPE:-$BUILD/lmscope}
THREADS=${THREADS:-2}
REPEATS=${REPEATS:-3}
SHAPES=${SHAPES:-"a b c"}
OUT=${OUT:-$BUILD/bench-score.jsonl}
W=$BUILD/bench-eval
[ -x "$L" ] || { echo "bench: $L not found; run 'make' first" >&2; exit 2; }
run() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE "$@"; }
: > "$OUT"
echo "bench: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
shape_args() {
  case "$1" in
    a) echo "--layers 12 --heads 12 --dim 768 --vocab 50257 --batch 4 --ctx 64" ;;
    b) echo "--layers 6 --heads 6 --dim 384 --vocab 50257 --batch 8 --ctx 256" ;;
    c) echo "--layers 4 --heads 4 --dim 256 --vocab 8192 --batch 16 --ctx 256" ;;
  esac
}
for r in $(seq "$REPEATS"); do
  for s in $SHAPES; do
    a=$(shape_args "$s")
    run "$L" bench $a --steps 7 --warmup 2 --ceiling-size 0 --threads "$THREADS" | sed "s/^{/{\"shape\":\"$s\",/" >> "$OUT"
    run "$L" bench $a --score --steps 7 --warmup 2 --threads "$THREADS" | sed "s/^{/{\"shape\":\"$s\",/" >> "$OUT"
  done
done
if [ -d data/corpus ] || tools/corpus/unpack.sh >/dev/null; then
  mkdir -p "$W"
  [ -f "$W/tok/vocab.json" ] || "$L" tokenizer train --vocab-size 8192 --out "$W/tok" data/corpus/*.txt >/dev/null
  [ -f "$W/shards/manifest.json" ] || "$L" data prepare --tokenizer "$W/tok" --out "$W/shards" data/corpus/ >/dev/null
  [ -f "$W/run/latest" ] || "$L" train --data "$W/shards" --out "$W/run" --layers 4 --heads 4 --dim 256 --ctx 256 \
      --batch 4 --steps 1 --quiet >/dev/null
  for r in $(seq "$REPEATS"); do
    t0=$(date +%s.%N)
    run "$L" eval --model "$W/run" --suites all --threads "$THREADS" --out "$W/eval.jsonl" >/dev/null
    t1=$(date +%s.%N)
    items=$(python3 -c "import json,sys; print(sum(json.loads(l)['n'] for l in open(sys.argv[1])))" "$W/eval.jsonl")
    echo "{\"mode\":\"eval\",\"shape\":\"c\",\"suites\":\"all\",\"items\":$items,\"seconds\":$(echo "$t1 - $t0" | bc)}" >> "$OUT"
  done
fi
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = statistics.median
print(f"\n{'shape':5} {'train tok/s':>11} {'score tok/s':>11} {'ratio':>6} {'train GF/s':>10} {'score GF/s':>10} {'score RSS MB':>12} {'BLAS core':>10}")
for s in "abc":
    t = [r for r in rows if r.get("shape") == s and r["mode"] == "train"]
    c = [r for r in rows if r.get("shape") == s and r["mode"] == "score"]
    if not t or not c: continue
    tt, ct = med([r["tokens_per_s"] for r in t]), med([r["tokens_per_s"] for r in c])
    print(f"{s:5} {tt:11.1f} {ct:11.1f} {ct / tt:6.2f} {med([r['gflops'] for r in t]):10.1f} {med([r['gflops'] for r in c]):10.1f} "
          f"{med([r['peak_rss_bytes'] for r in c]) / 2**20:12.0f} {c[0].get('blas_core', '?'):>10}")
e = [r for r in rows if r["mode"] == "eval"]
if e:
    print(f"eval --suites all, shape c: {med([r['seconds'] for r in e]):.1f} s median over {len(e)} "
          f"({e[0]['items']} items; runs " + ", ".join("%.1f" % r["seconds"] for r in e) + ")")
print(f"raw results: {sys.argv[1]}")
PY
