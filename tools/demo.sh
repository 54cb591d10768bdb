#!/usr/bin/env bash
# demo.sh — `DEMO=single make demo`: train one small GPT on the embedded corpus for a few minutes,
# sample from it, score it on the probe suites, and print the commands to look further (~5 minutes
# on 2 cores). Plain `make demo` runs the scaling laboratory instead (tools/lab.sh).
#
# Two paths, chosen by what the build has:
#  - tokenizer + data pipeline ('lmscope tokenizer train' and 'lmscope data prepare' work): unpack
#    the corpus, train a 4096-token BPE, prepare shards per domain, train on the shards;
#  - otherwise: a byte-level model (vocab 256) on the corpus text (or the repo's docs if the
#    corpus is missing).
# The number of steps is sized from a short timing run so that training takes about
# DEMO_MINUTES (default 3) minutes. DEMO_MINUTES=1 for a quick look.
set -euo pipefail
cd "$(dirname "$0")/.."
# `make demo` is the scaling laboratory (tools/lab.sh); DEMO=single runs this single-model demo
case "${DEMO:-demo}" in
  single) ;;
  *) exec tools/lab.sh ;;
esac
L=${LMSCOPE:-./build/lmscope}
[ -x "$L" ] || { echo "demo: $L is missing; run 'make' first" >&2; exit 1; }
MIN=${DEMO_MINUTES:-3}
OUT=${DEMO_OUT:-runs/demo}
say() { printf '\n== %s\n' "$*"; }

# 1. the text: the embedded corpus (one <domain>.txt per domain), else the repo's docs
if [ -x tools/corpus/unpack.sh ] && [ -f data/corpus-small.tar.xz ]; then
  tools/corpus/unpack.sh >/dev/null || echo "demo: could not unpack the corpus; using what is there" >&2
fi
texts=()
corpus=""
if ls data/corpus/*.txt >/dev/null 2>&1; then
  corpus=data/corpus
  texts=(data/corpus/*.txt)
else
  for f in README.md docs/*.md; do [ -f "$f" ] && texts+=("$f"); done
fi
[ ${#texts[@]} -gt 0 ] || { echo "demo: no text to train on (data/corpus/ or docs/)" >&2; exit 1; }
say "data: ${#texts[@]} files, $(cat "${texts[@]}" | wc -c) bytes${corpus:+ in $corpus}"

# 2. tokenizer + shards when the pipeline exists, else bytes
MODEL="--layers 4 --heads 4 --dim 128 --ctx 128 --batch 16"
rm -rf "$OUT.work" "$OUT.probe" "$OUT"
mkdir -p "$OUT.work"
if [ -n "$corpus" ] && "$L" tokenizer train --help >/dev/null 2>&1 && "$L" data prepare --help >/dev/null 2>&1; then
  say "tokenizer: byte-level BPE with 4096 tokens, trained on the corpus"
  "$L" tokenizer train --vocab-size 4096 --out "$OUT.work/tok" "${texts[@]}"
  say "shards: one domain per corpus file, 5% of each held out for validation"
  "$L" data prepare --tokenizer "$OUT.work/tok" --out "$OUT.work/shards" "$corpus" | tail -n 3
  DATA=(--data "$OUT.work/shards" --tokenizer "$OUT.work/tok")
else
  say "no tokenizer/data pipeline (or no corpus): a byte-level model (vocab 256) on the text"
  cat "${texts[@]}" > "$OUT.work/text.txt"
  DATA=(--data "$OUT.work/text.txt")
fi

# 3. size the run: time 6 steps, then pick the step count for ~MIN minutes
"$L" train "${DATA[@]}" --out "$OUT.probe" $MODEL --steps 6 --eval-interval 100 --eval-batches 1 --quiet
tps=$(sed -E 's/.*"tokens_per_s":([0-9.e+]+).*/\1/' "$OUT.probe/metrics.jsonl" | tail -n +2 | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
rm -rf "$OUT.probe"
steps=$(awk -v t="$tps" -v m="$MIN" 'BEGIN{s=int(t*60*m*0.85/(16*128)); if(s<50)s=50; if(s>3000)s=3000; print s}')
say "train: ~${MIN} min at $(printf '%.0f' "$tps") tokens/s -> $steps steps (L4 H4 C128 T128, batch 16)"
"$L" train "${DATA[@]}" --out "$OUT" $MODEL --steps "$steps" --lr 3e-3 --warmup $((steps / 20)) --seed 1

# 4. look at it
say "samples (greedy, then temperature 0.8 / top-k 40)"
for p in "The capital of France is" "To be, or not to be" "The meaning of the word" "12 + 7 ="; do
  printf -- '--- greedy: '; "$L" sample --model "$OUT" --prompt "$p" --tokens 60 --temperature 0
  printf -- '--- t=0.8:  '; "$L" sample --model "$OUT" --prompt "$p" --tokens 60 --temperature 0.8 --top-k 40 --seed 1
done
if [ -n "$corpus" ]; then
  say "validation loss per domain at the end: one next-token loss hides many tasks"
  /usr/bin/python3 - "$OUT/metrics.jsonl" <<'PY' || true
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"val_loss_domains"' in l]
if rows:
    first, last = rows[0]["val_loss_domains"], rows[-1]["val_loss_domains"]
    print(f"  {'domain':22} {'first eval':>10} {'last eval':>10}")
    for d in sorted(last, key=last.get):
        print(f"  {d:22} {first.get(d, float('nan')):10.3f} {last[d]:10.3f}")
PY
  say "the many tasks inside the one loss: probe suites (chance, accuracy ± s.e., log-prob of the answer)"
  "$L" eval --model "$OUT" --suites all || true
  say "per-token loss of one sentence (which tokens are easy, which are hard)"
  "$L" inspect --model "$OUT" --text "The capital of France is Paris. To be, or not to be: that is the question." \
      --html "$OUT/inspect.html" | tail -n 6 || true
fi
say "look further"
cat <<MSG
  $L sample --model $OUT --prompt "The capital of Spain is" --tokens 80 --temperature 0.8
  $L train --out $OUT --resume --steps $((steps * 2))      # train longer (at the final lr), exactly where it stopped
  tail -n 3 $OUT/metrics.jsonl                                # loss, val_loss per domain, lr, tokens/s, FLOPs
  cat $OUT/config.json                                        # the resolved config
  $L eval --model $OUT --suites capitals,quote-repetition --show 3   # items with each choice's probability
  $L eval --model $OUT --domains                              # validation loss and bits per byte per domain
  $L score --model $OUT --text "The capital of France is Paris."
  xdg-open $OUT/inspect.html                                  # the per-token page (hover a token)
MSG
if [ -n "$corpus" ]; then
cat <<MSG
  $L tokenizer show --tokenizer $OUT.work/tok --text "The capital of Azerbaijan is Baku."
  $L data stats $OUT.work/shards                              # docs, bytes, tokens, top tokens per domain
  $L data sample --domain quotes --n 3 $OUT.work/shards       # read the training text
  $L data grep "capital of Azerbaijan" $corpus                # where a fact lives
  $L data dedup $corpus                                       # exact and near-duplicate documents
MSG
fi
