#!/usr/bin/env bash
# data.sh — 'lmscope data' end to end on a tiny temporary corpus: prepare (byte tokenizer and a
# tiny BPE with <|endoftext|>), stats, sample, grep, dedup, and bad input (non-zero exit, clear
# message, no crash).
set -u
L="${LMSCOPE:?set LMSCOPE to the lmscope binary}"
T=$(mktemp -d /tmp/lms_cli_data_XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
ok()   { echo "ok   $*"; }
bad()  { echo "FAIL $*"; fails=$((fails + 1)); }
# expect CODE "description" cmd... : run, check the exit code, keep output in $T/out
expect() {
  local want=$1 what=$2; shift 2
  "$@" >"$T/out" 2>&1; local rc=$?
  if [ "$rc" -eq "$want" ]; then ok "$what (exit $rc)"; else bad "$what: exit $rc, wanted $want"; sed 's/^/    /' "$T/out" | head -20; fi
  if grep -qE 'Sanitizer|runtime error:' "$T/out"; then bad "$what: sanitizer report"; grep -E 'Sanitizer|runtime error:' "$T/out" | head -5; fi
}
has() { if grep -qF -- "$1" "$T/out"; then ok "  output has '$1'"; else bad "  output lacks '$1'"; sed 's/^/    /' "$T/out" | head -20; fi; }

mkdir -p "$T/c"
{
  echo "Baku is the capital of Azerbaijan, on the Caspian Sea."; echo "<|endoftext|>"
  echo "All that glisters is not gold; often have you heard that told."; echo "<|endoftext|>"
  echo "Baku is the capital of Azerbaijan, on the Caspian Sea."; echo "<|endoftext|>"
  echo "The quick brown fox jumps over the lazy dog near the quiet river bank today."; echo "<|endoftext|>"
  echo "The quick brown fox jumps over the lazy dog near the quiet river bank tonight."
} > "$T/c/quotes.txt"
{
  for i in 1 2 3 4 5 6; do
    echo "Chapter $i. It is a truth universally acknowledged that chapter $i follows chapter $((i - 1)) in this novel."
    echo "<|endoftext|>"
  done
} > "$T/c/novels.txt"
printf 'binary\0data' > "$T/c/blob.txt"

# prepare with the byte tokenizer
expect 0 "prepare (bytes)" "$L" data prepare --out "$T/s" --val-docs 1 "$T/c"
has "quotes"; has "novels"; has "manifest.json"; has "skipping"; has "blob.txt"
for f in manifest.json quotes_train_000000.bin quotes_val_000000.bin novels_train_000000.bin novels_val_000000.bin; do
  [ -f "$T/s/$f" ] && ok "  wrote $f" || bad "  missing $f"
done
# a shard is llm.c's layout: magic 20240520 = 0x0134d888 little-endian, version 1
hdr=$(od -An -tx1 -N8 "$T/s/quotes_train_000000.bin" | tr -d ' \n')
[ "$hdr" = "88d8340101000000" ] && ok "  llm.c header" || bad "  header bytes $hdr"

# stats on the corpus and on the shards
expect 0 "stats corpus" "$L" data stats "$T/c"
has "quotes"; has "total"; has "dup docs"
grep -E '^quotes +5 ' "$T/out" >/dev/null && ok "  quotes has 5 docs" || bad "  quotes doc count"
grep -E '^quotes +5 +[0-9]+ +[0-9]+ +1\.000 +1$' "$T/out" >/dev/null && ok "  one exact duplicate in quotes" || bad "  quotes duplicate count"
expect 0 "stats shards" "$L" data stats --top 3 "$T/s"
has "shards"; has "train/val documents: 9 / 2"
grep -E '^quotes +5 ' "$T/out" >/dev/null && ok "  shards: quotes has 5 docs" || bad "  shards: quotes doc count"

# sample
expect 0 "sample" "$L" data sample --domain quotes --n 2 --seed 3 "$T/s"
has "=== quotes doc"
"$L" data sample --domain quotes --n 2 --seed 3 "$T/s" > "$T/a" 2>/dev/null
"$L" data sample --domain quotes --n 2 --seed 3 "$T/s" > "$T/b" 2>/dev/null
cmp -s "$T/a" "$T/b" && ok "  same seed, same sample" || bad "  sample not deterministic"
expect 0 "sample corpus, all domains" "$L" data sample --n 20 "$T/c"
[ "$(grep -c '^=== ' "$T/out")" = 11 ] && ok "  all 11 documents" || bad "  sample --n 20 printed $(grep -c '^=== ' "$T/out")"
expect 1 "sample unknown domain" "$L" data sample --domain poems "$T/c"
has "no domain named 'poems'"

# grep
expect 0 "grep plain" "$L" data grep "capital of Azerbaijan" "$T/c" --context 10
has "2 matches in 2 documents"; has "quotes doc 0 line 1"; has "[capital of Azerbaijan]"
expect 0 "grep regex" "$L" data grep --regex 'Chapter [0-9]\.' "$T/c"
has "6 matches"
expect 0 "grep ignore-case on shards" "$L" data grep --ignore-case "BAKU" "$T/s"
has "2 matches"
expect 0 "grep --max" "$L" data grep --max 1 --regex 'Chapter [0-9]\.' "$T/c"
has "1 match in 1 document"
expect 1 "grep bad regex" "$L" data grep --regex 'a(' "$T/c"
has "bad regular expression"

# dedup
expect 0 "dedup" "$L" data dedup "$T/c" --threshold 0.7
has "exact duplicate groups: 1"
grep -E '^quotes +5 +1 +2 +1$' "$T/out" >/dev/null && ok "  quotes: 1 exact dup, 1 near pair" || bad "  quotes dedup line"
has "near duplicates"

# a tiny BPE tokenizer directory (256 byte tokens + <|endoftext|>, no merges) made by hand
/usr/bin/python3 - "$T/tok" <<'PY'
import json, os, sys
d = sys.argv[1]; os.makedirs(d, exist_ok=True)
bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
cs = bs[:]; n = 0
for b in range(256):
    if b not in bs: bs.append(b); cs.append(256 + n); n += 1
m = {chr(c): b for b, c in zip(bs, cs)}
v = {ch: i for ch, i in sorted(m.items(), key=lambda kv: kv[1])}
v["<|endoftext|>"] = 256
json.dump(v, open(os.path.join(d, "vocab.json"), "w"))
open(os.path.join(d, "merges.txt"), "w").write("#version: 0.2\n")
PY
expect 0 "prepare (BPE with EOT)" "$L" data prepare --tokenizer "$T/tok" --out "$T/s2" --val-fraction 0.2 "$T/c"
grep -q '"kind": "eot"' "$T/s2/manifest.json" && ok "  EOT separator" || bad "  manifest separator"
expect 0 "sample finds the shards' tokenizer through the manifest" "$L" data sample --n 1 "$T/s2"
has "from manifest.json"
mv "$T/tok" "$T/tok.away"
expect 1 "stats: shards whose tokenizer is gone cannot be decoded for sample" "$L" data sample "$T/s2"
has "--tokenizer"
mv "$T/tok.away" "$T/tok"
expect 0 "sample with the right tokenizer" "$L" data sample --tokenizer "$T/tok" --n 1 "$T/s2"
expect 1 "mismatched tokenizer" "$L" data stats --tokenizer "$T/tok" "$T/s"
has "were made with tokenizer"

# bad input
expect 2 "prepare without --out" "$L" data prepare "$T/c"
has "--out"
expect 2 "prepare with both hold-out flags" "$L" data prepare --out "$T/x" --val-docs 1 --val-fraction 0.1 "$T/c"
expect 1 "prepare missing corpus" "$L" data prepare --out "$T/x" "$T/nope"
has "does not exist"
mkdir -p "$T/empty"
expect 1 "prepare empty corpus" "$L" data prepare --out "$T/x" "$T/empty"
has "no usable documents"
expect 1 "prepare missing tokenizer" "$L" data prepare --tokenizer "$T/nope" --out "$T/x" "$T/c"
expect 2 "unknown subcommand" "$L" data frobnicate
expect 2 "bad flag value" "$L" data stats --top abc "$T/c"
cp -r "$T/s" "$T/trunc"
head -c 1500 "$T/s/quotes_train_000000.bin" > "$T/trunc/quotes_train_000000.bin"
expect 1 "truncated shard" "$L" data stats "$T/trunc"
has "truncated"; has "quotes_train_000000.bin"
cp -r "$T/s" "$T/nomf"
/usr/bin/python3 -c "import json,sys; p=sys.argv[1]; m=json.load(open(p)); del m['domains'][0]['train']; json.dump(m, open(p,'w'))" "$T/nomf/manifest.json"
expect 1 "manifest missing a field" "$L" data stats "$T/nomf"
has "\"train\" is missing"
printf '{"format": "lmscope-sh' > "$T/nomf/manifest.json"
expect 1 "manifest not JSON" "$L" data stats "$T/nomf"
has "not valid JSON"
mkdir -p "$T/plain" && cp "$T/s/quotes_train_000000.bin" "$T/plain/"
expect 1 "stats on llm.c shards without manifest" "$L" data stats "$T/plain"
has "no manifest.json"
expect 0 "help" "$L" data --help
has "dedup"

# prepare streams: a FIFO in the corpus is refused (it would block), and 32 MB of text prepares in
# bounded memory (in memory it took the text, every document's ids and the train copy: ~300 MB)
mkdir -p "$T/fifo" && cp "$T/c/quotes.txt" "$T/fifo/" && mkfifo "$T/fifo/pipe.txt"
expect 1 "prepare a corpus holding a FIFO" timeout 10 "$L" data prepare --out "$T/x" "$T/fifo"
has "not a regular file"
mkdir -p "$T/big"
/usr/bin/python3 - "$T/big/books.txt" <<'PY'
import sys
words = "the of and to in that it was he for on are as with his they at be this from".split()
base = " ".join(words[(i * 7) % len(words)] for i in range(20000))
with open(sys.argv[1], "w") as f:
    for d in range(400):  # 400 documents of ~80 KB, then one of 1 MB in a single line
        f.write("document %d: %s\n<|endoftext|>\n" % (d, base))
    f.write("x" * 1000000 + "\n")
PY
rss=$(/usr/bin/python3 -c '
import resource, subprocess, sys
subprocess.run([sys.argv[1], "data", "prepare", "--out", sys.argv[2], "--shard-tokens", "10000000", sys.argv[3]], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' "$L" "$T/bigs" "$T/big")
if ldd "$L" 2>/dev/null | grep -q libasan; then ok "prepare of 32 MB: peak $rss MB not checked under AddressSanitizer"
elif [ -n "$rss" ] && [ "$rss" -lt 64 ]; then ok "prepare of $(($(wc -c < "$T/big/books.txt") / 1000000)) MB peaks at $rss MB"; else bad "prepare of 32 MB peaks at ${rss:-?} MB (want < 64)"; fi
if [ "$(cat "$T"/bigs/books_*.bin | wc -c)" -gt 60000000 ]; then ok "  shards written"; else bad "  shards missing"; fi
rm -rf "$T/big" "$T/bigs"

echo "$fails failed"
[ "$fails" -eq 0 ]
