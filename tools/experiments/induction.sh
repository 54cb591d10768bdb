#!/usr/bin/env bash
# induction.sh — does in-context copying appear abruptly over training? (issue 6, item 6)
#
# Trains a 2-layer and a 1-layer model (the control: an induction head needs two layers, a
# previous-token head feeding a copying head) on the embedded corpus with checkpoints at
# log-spaced steps, scores every checkpoint on the copying suites and a few others, and labels
# each curve with 'lmscope shapes' against training steps. Prints everything and leaves the
# results in $OUT (default runs/induction). Takes ~20-35 min on 2 cores.
#
#   tools/experiments/induction.sh            # STEPS=2000 OUT=runs/induction by default
set -euo pipefail
cd "$(dirname "$0")/../.."
L=${LMSCOPE:-./build/lmscope}
OUT=${OUT:-runs/induction}
STEPS=${STEPS:-2000}
SUITES=${SUITES:-induction-words,induction-letters,quote-completion,capitals,grammar-agreement,arithmetic-mc,spatial}
tools/corpus/unpack.sh >/dev/null
mkdir -p "$OUT"
[ -f "$OUT/tok/vocab.json" ] || "$L" tokenizer train --vocab-size 4096 --out "$OUT/tok" data/corpus/*.txt >/dev/null
[ -f "$OUT/shards/manifest.json" ] || "$L" data prepare --tokenizer "$OUT/tok" --out "$OUT/shards" data/corpus/ >/dev/null
for layers in 2 1; do
  run="$OUT/L$layers"
  if [ ! -f "$run/latest" ] || ! grep -q "\"step\":$STEPS," "$run/metrics.jsonl" 2>/dev/null; then
    rm -rf "$run"
    "$L" train --data "$OUT/shards" --out "$run" --layers "$layers" --heads 4 --dim 128 --ctx 128 --batch 16 \
        --steps "$STEPS" --lr 3e-3 --seed 1 --save-log-steps --ckpt-interval 250 --keep 100 --quiet
  fi
  "$L" eval --run "$run" --over-training --suites "$SUITES" --out "$OUT/L$layers.jsonl"
  echo "== L$layers: curve shapes over training steps"
  "$L" shapes --x step "$OUT/L$layers.jsonl"
done
echo "== copying suites over training (acc = top-1 accuracy on the second copy, logp = mean log-prob per token)"
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
for layers in (2, 1):
    rows = [json.loads(l) for l in open(f"{out}/L{layers}.jsonl")]
    for suite in ("induction-words", "induction-letters"):
        pts = sorted((r["step"], r["acc"], r["logp"]) for r in rows if r["suite"] == suite)
        print(f"L{layers} {suite}: " + "  ".join(f"{s}:{a:.2f}/{lp:.2f}" for s, a, lp in pts))
PY
