#!/usr/bin/env bash
# check_corpus.sh — encode text files with the JavaScript references (npm tiktoken's GPT-2 encoding
# and npm gpt-3-encoder, via make_fixture.js --files) and with lmscope, and compare the ids.
#   tools/tokenizer/check_corpus.sh [FILES...]      default: data/corpus/*.txt
#   LMSCOPE=build-tok/lmscope tools/tokenizer/check_corpus.sh
# Prints one line per file; exits 1 if lmscope differs from tiktoken on any file.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
L=${LMSCOPE:-build/lmscope}
tools/tokenizer/fetch.sh >/dev/null
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(data/corpus/*.txt)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node tools/tokenizer/make_fixture.js --files "${files[@]}" > "$tmp/ref.json"
fail=0
for f in "${files[@]}"; do
  "$L" tokenizer encode --tokenizer tests/fixtures/gpt2 --file "$f" > "$tmp/ours.txt"
  node -e '
const fs = require("fs");
const ref = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).cases.find((c) => c.name === process.argv[3]);
if (!ref) { console.log(`${process.argv[3]}: no reference (not valid UTF-8?)`); process.exit(0); }
const ours = fs.readFileSync(process.argv[2], "utf8").trim().split(/\s+/).filter((x) => x.length).map(Number);
let i = 0; while (i < ours.length && i < ref.ids.length && ours[i] === ref.ids[i]) i++;
const same = i === ours.length && i === ref.ids.length;
console.log(`${process.argv[3].padEnd(28)} ${String(ref.ids.length).padStart(9)} tokens  lmscope==tiktoken: ${same}${same ? "" : " (first difference at " + i + ")"}  gpt-3-encoder==tiktoken: ${ref.gpt3enc === true}`);
process.exit(same ? 0 : 1);
' "$tmp/ref.json" "$tmp/ours.txt" "$(basename "$f")" || fail=1
done
exit $fail
