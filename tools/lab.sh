#!/usr/bin/env bash
# lab.sh — `make demo`: the scaling laboratory on the embedded corpus. Trains a family of models
# over size x tokens (lmscope sweep), fits the scaling laws with a held-out prediction (lmscope
# fit), and writes one offline page with every plot (lmscope report), then prints a summary and
# the commands to look further.
#
#   make demo               the 'demo' preset: 8 sizes x 5 token budgets (WSD branches) + LR
#                           variants, 22 probe suites after every run (16 min on 2 Zen 5 cores)
#   DEMO=quick make demo    the 'quick' preset: 5 sizes x 4 budgets (6 min)
#   DEMO=emergence make demo  the controlled tasks of 'lmscope data synth' mixed into the corpus, a
#                           one-layer control beside deeper models: emergence, the mirage, U-shaped
#                           scaling and copying (docs/experiments.md "Emergence")
#   DEMO=single make demo   the older single-model demo (tools/demo.sh)
# Resumable: run it again after Ctrl-C and finished runs are kept. DEMO_OUT=dir moves the output
# (default sweeps/demo or sweeps/quick). What the demo preset measured, misses included:
# docs/experiments.md.
set -euo pipefail
cd "$(dirname "$0")/.."
L=${LMSCOPE:-./build/lmscope}
[ -x "$L" ] || { echo "demo: $L is missing; run 'make' first" >&2; exit 1; }
PRESET=${DEMO:-demo}
case "$PRESET" in demo|quick|emergence) ;; *) echo "demo: DEMO=$PRESET: use demo, quick, emergence or single" >&2; exit 2 ;; esac
OUT=${DEMO_OUT:-sweeps/$PRESET}
W=sweeps/.work
say() { printf '\n== %s\n' "$*"; }

tools/corpus/unpack.sh >/dev/null
mkdir -p "$W"
CORPUS=data/corpus TOK=$W/tok SHARDS=$W/shards SUITES=
if [ "$PRESET" = emergence ]; then
  # the controlled tasks beside the natural corpus, in a directory of links (data/corpus stays as it is)
  CORPUS=$W/emergence-corpus TOK=$W/tok-emergence SHARDS=$W/shards-emergence SUITES=data/suites,$W/synth/suites
  if [ ! -f "$W/synth/suites/copy-first.jsonl" ]; then
    say "controlled tasks: addition, copying and chants (lmscope data synth, seed 1; held-out suites)"
    "$L" data synth --out "$W/synth" --add-problems 300000 --copy-lines 300000 --chant-lines 20000
  fi
  mkdir -p "$CORPUS"
  for f in data/corpus/*.txt "$W"/synth/corpus/*.txt; do ln -sf "$(realpath "$f")" "$CORPUS/"; done
fi
texts=("$CORPUS"/*.txt)
say "data: ${#texts[@]} domains, $(cat "${texts[@]}" | wc -c) bytes in $CORPUS (look: $L data stats $CORPUS)"
if [ ! -f "$TOK/vocab.json" ]; then
  say "tokenizer: byte-level BPE with 4096 tokens, trained on the corpus"
  "$L" tokenizer train --vocab-size 4096 --out "$TOK" "${texts[@]}" | tail -n 1
fi
if [ ! -f "$SHARDS/manifest.json" ]; then
  say "shards: one domain per corpus file, documents held out per domain for validation"
  "$L" data prepare --tokenizer "$TOK" --out "$SHARDS" "$CORPUS/" | tail -n 2
fi

say "sweep '$PRESET': the plan"
"$L" sweep --preset "$PRESET" --data "$SHARDS" --tokenizer "$TOK" --out "$OUT" ${SUITES:+--suites "$SUITES"} --dry-run | tail -n 5
say "sweep '$PRESET': training (one line per run; Ctrl-C and rerun to continue)"
"$L" sweep --preset "$PRESET" --data "$SHARDS" --tokenizer "$TOK" --out "$OUT" ${SUITES:+--suites "$SUITES"}

say "fit: the scaling laws, their intervals and the held-out test"
"$L" fit "$OUT" || true
say "report"
"$L" report "$OUT" --out "$OUT/report.html"

largest=$(python3 -c "import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute(\"select run_dir from runs where status = 'done' and coalesce(kind, 'grid') = 'grid' order by params desc, tokens desc limit 1\").fetchone()
print(r[0] if r else '')" "$OUT/results.db" 2>/dev/null || true)
say "look further"
cat <<MSG
  xdg-open $OUT/report.html                        # the page: fits, every suite's curve and shape, samples, per-token loss
  $L fit $OUT --json                               # the fits as JSON
  ls $OUT/runs/                                    # every run is a normal run dir:
  $L sample --model ${largest:-$OUT/runs/<run>} --prompt "The capital of France is" --tokens 40
  $L eval --model ${largest:-$OUT/runs/<run>} --suites capitals,quote-repetition --show 3
  $L inspect --model ${largest:-$OUT/runs/<run>} --text "To be, or not to be: that is the question." --html /tmp/t.html
  $OUT/results.db                                  # every number above, in SQLite (schema: docs/scaling.md)
  DEMO=single make demo                            # one model, its samples and per-domain loss, in ~5 minutes
MSG
