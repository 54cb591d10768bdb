#!/usr/bin/env bash
# train.sh — time `lmscope tokenizer train` on ~60 MB of real English text to an 8,192-token
# vocabulary (target: <= 60 s on 2 cores). Benchmark, not a test.
# Text, concatenated and cut at 60 MB: the embedded corpus (data/corpus/*.txt, ~5 MB), Vim's
# documentation (/usr/share/vim/vim*/doc/*.txt, ~10 MB), then Debian's package documentation
# (/usr/share/doc: copyright files, gunzipped changelogs and READMEs; NUL bytes dropped).
#   bench/tokenizer/train.sh                 VOCAB=8192 THREADS=2 REPEATS=3
#   TEXT=my.txt bench/tokenizer/train.sh     any text instead
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
BUILD=${BUILD:-build}
L=${LMSCOPE:-$BUILD/lmscope}
VOCAB=${VOCAB:-8192}
THREADS=${THREADS:-2}
REPEATS=${REPEATS:-3}
MB=${MB:-60}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${TEXT:-}" ]; then text=$TEXT; else
  text=$tmp/text.txt
  { cat data/corpus/*.txt 2>/dev/null || true
    cat /usr/share/vim/vim*/doc/*.txt 2>/dev/null || true
    { find /usr/share/doc -name copyright -type f -print0 | xargs -0 cat
      find /usr/share/doc -name '*.gz' -type f -print0 | xargs -0 zcat 2>/dev/null
      find /usr/share/doc /usr/share/common-licenses -type f \( -name '*.txt' -o -name 'README*' -o -name '*.md' \) ! -name '*.gz' -print0 | xargs -0 cat
    } 2>/dev/null | tr -d '\000'
  } | head -c $((MB * 1024 * 1024)) > "$text" || true
fi
echo "text: $(wc -c < "$text") bytes; vocab $VOCAB; $THREADS threads; $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$REPEATS"); do
  /usr/bin/time -f "wall %e s, peak RSS %M KB" "$L" tokenizer train --vocab-size "$VOCAB" --threads "$THREADS" --out "$tmp/tok" "$text" 2>&1 | grep -E "trained|wall|hash"
done
