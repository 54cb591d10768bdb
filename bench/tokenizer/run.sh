#!/usr/bin/env bash
# run.sh — GPT-2 encoding throughput: lmscope single-threaded and multi-threaded (text split at
# line boundaries) side by side with npm tiktoken (WASM) on the same text, checking the ids match.
# Benchmark, not a test. Installs tiktoken into bench/tokenizer/node_modules (gitignored) if missing.
#
#   bench/tokenizer/run.sh                    text: data/corpus/*.txt concatenated (real English)
#   TEXT=big.txt REPEATS=7 THREADS=2 bench/tokenizer/run.sh
#   BUILD=build-tok bench/tokenizer/run.sh    (library from $BUILD, default build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
BUILD=${BUILD:-build}
REPEATS=${REPEATS:-5}
THREADS=${THREADS:-2}
TOK=${TOK:-tests/fixtures/gpt2}
if [ ! -f "$here/node_modules/tiktoken/package.json" ]; then
  (cd "$here" && npm install --no-save --no-audit --no-fund --prefix "$here" tiktoken@1.0.22 >/dev/null)
fi
make -s BUILD="$BUILD" "$BUILD/liblmscope.a"
cc -std=gnu11 -O2 -Isrc -o "$BUILD/bench_tokenizer" "$here/bench_encode.c" "$BUILD/liblmscope.a" \
   -lopenblas -lpcre2-8 -ljansson -lcrypto -lm -fopenmp -lpthread
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${TEXT:-}" ]; then text=$TEXT; else cat data/corpus/*.txt > "$tmp/text.txt"; text=$tmp/text.txt; fi
echo "text: ${TEXT:-data/corpus/*.txt} ($(wc -c < "$text") bytes); tokenizer: $TOK; median of $REPEATS runs; $(nproc) cores"
"$BUILD/bench_tokenizer" "$TOK" "$text" "$tmp/ids.bin" "$REPEATS" "$THREADS" | tee "$tmp/ours.jsonl"
node "$here/bench_tiktoken.js" "$text" "$tmp/ids.bin" "$REPEATS" | tee "$tmp/theirs.jsonl"
node -e '
const fs = require("fs");
const ours = fs.readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const tk = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
console.log("\nimpl                 threads     MB/s    tokens/s   vs tiktoken");
for (const r of [...ours, tk]) console.log(`${r.impl.padEnd(20)} ${String(r.threads).padStart(7)} ${r.MB_per_s.toFixed(2).padStart(8)} ${String(r.tokens_per_s).padStart(11)}   ${(r.MB_per_s / tk.MB_per_s).toFixed(2)}x`);
console.log(`ids identical to tiktoken: ${tk.same_ids_as_lmscope}`);
' "$tmp/ours.jsonl" "$tmp/theirs.jsonl"
