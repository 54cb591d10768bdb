#!/usr/bin/env bash
# tokenizer.sh — CLI test of 'lmscope tokenizer': train, encode (text, file, stdin), decode, show,
# info on GPT-2's files and on a freshly trained tokenizer; --file and stdin agree on any bytes
# (empty, NUL) and stream big inputs with the ids of the whole; and bad input (missing dir, vocab
# size 100, training on empty/binary files, FIFOs, bad ids, unknown flags) -> a clear message and
# exit 1 or 2, never a crash.
set -u
L=${LMSCOPE:-./build/lmscope}
G=tests/fixtures/gpt2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi; }
# run a command that must fail with exit 1 or 2 and print a message containing $2 on stderr
expect_fail() {
  local name=$1 pat=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ $rc -ne 1 ] && [ $rc -ne 2 ]; then bad "$name: exit $rc (want 1 or 2)"; return; fi
  if ! grep -qi -- "$pat" "$T/err"; then bad "$name: message lacks '$pat': $(cat "$T/err")"; return; fi
  ok "$name (exit $rc)"
}

expect_eq "encode Hello world" "$($L tokenizer encode --tokenizer $G --text "Hello world")" "15496 995"
expect_eq "encode Paris" "$($L tokenizer encode --tokenizer $G --text "The capital of France is Paris.")" "464 3139 286 4881 318 6342 13"
expect_eq "encode stdin" "$(printf 'Hello world' | $L tokenizer encode --tokenizer $G)" "15496 995"
printf 'Hello world' > "$T/hello.txt"
expect_eq "encode --file" "$($L tokenizer encode --tokenizer $G --file "$T/hello.txt")" "15496 995"
expect_eq "encode --count" "$($L tokenizer encode --tokenizer $G --count --text "Hello world")" "2"
expect_eq "encode --eot" "$($L tokenizer encode --tokenizer $G --eot --text "a<|endoftext|>b")" "64 50256 65"
expect_eq "decode" "$($L tokenizer decode --tokenizer $G 15496 995)" "Hello world"
expect_eq "decode stdin" "$(echo "464 3139 286 4881 318 6342 13" | $L tokenizer decode --tokenizer $G)" "The capital of France is Paris."
expect_eq "show brackets" "$($L tokenizer show --tokenizer $G --text "The capital of France" 2>/dev/null)" "[The][ capital][ of][ France]"
expect_eq "show escapes" "$($L tokenizer show --tokenizer $G --text "$(printf 'a\n\xf0\x9f\x98\x80')" 2>/dev/null)" '[a][\n][\xF0\x9F\x98][\x80]'
$L tokenizer show --tokenizer $G --color --text "The capital" 2>/dev/null > "$T/color"
if grep -q $'\x1b\[48;5;' "$T/color" && ! grep -q '\[The\]' "$T/color"; then ok "show --color uses ANSI colours"; else bad "show --color"; fi
expect_eq "bytes tokenizer" "$($L tokenizer encode --tokenizer bytes --text "AB")" "65 66"
expect_eq "info" "$($L tokenizer info --tokenizer $G | head -1)" "vocab_size 50257"

# train -> encode -> decode round trip on real text
printf 'The cat sat on the mat.\nThe dog sat on the log.\nA cat and a dog met on the mat.\n' > "$T/a.txt"
for i in 1 2 3 4 5 6 7 8; do cat "$T/a.txt"; done > "$T/b.txt"
if $L tokenizer train --vocab-size 270 --out "$T/tok" "$T/a.txt" "$T/b.txt" > "$T/train.out"; then ok "train"; else bad "train: $(cat "$T/train.out")"; fi
if [ -f "$T/tok/vocab.json" ] && [ -f "$T/tok/merges.txt" ]; then ok "train wrote vocab.json + merges.txt"; else bad "train files"; fi
expect_eq "trained vocab size" "$($L tokenizer info --tokenizer "$T/tok" | head -1)" "vocab_size 270"
ids=$($L tokenizer encode --tokenizer "$T/tok" --file "$T/b.txt")
$L tokenizer decode --tokenizer "$T/tok" $ids > "$T/back.txt"
if cmp -s "$T/b.txt" "$T/back.txt"; then ok "trained round trip"; else bad "trained round trip"; fi
n=$(echo $ids | wc -w); bytes=$(wc -c < "$T/b.txt")
if [ "$n" -lt $((bytes * 2 / 3)) ]; then ok "trained tokenizer compresses ($n tokens for $bytes bytes)"; else bad "no compression: $n tokens for $bytes bytes"; fi
h1=$($L tokenizer info --tokenizer "$T/tok" | tail -1)
$L tokenizer train --vocab-size 270 --threads 1 --out "$T/tok1" "$T/a.txt" "$T/b.txt" > /dev/null
expect_eq "training deterministic across threads" "$($L tokenizer info --tokenizer "$T/tok1" | tail -1)" "$h1"

# bad input
expect_fail "missing tokenizer dir" "does not exist" $L tokenizer encode --tokenizer "$T/nope" --text hi
expect_fail "dir without tokenizer" "vocab.json" $L tokenizer encode --tokenizer "$T" --text hi
expect_fail "no --tokenizer" "--tokenizer" $L tokenizer encode --text hi
expect_fail "vocab size 100" "257" $L tokenizer train --vocab-size 100 --out "$T/t2" "$T/a.txt"
expect_fail "vocab size too big" "4294967295" $L tokenizer train --vocab-size 4294967296 --out "$T/t2" "$T/a.txt"
expect_fail "train without files" "no training files" $L tokenizer train --vocab-size 300 --out "$T/t2"
expect_fail "train without --out" "--out" $L tokenizer train --vocab-size 300 "$T/a.txt"
: > "$T/empty.txt"
expect_fail "train on empty file" "empty" $L tokenizer train --vocab-size 300 --out "$T/t2" "$T/empty.txt"
printf 'ab\0\1\2cd' > "$T/bin.dat"
expect_fail "train on binary file" "binary" $L tokenizer train --vocab-size 300 --out "$T/t2" "$T/bin.dat"
expect_fail "train on missing file" "$T/missing.txt" $L tokenizer train --vocab-size 300 --out "$T/t2" "$T/missing.txt"
# --file and stdin take the same bytes the same way: an empty input is no ids, NUL bytes are byte tokens
expect_eq "encode empty file" "$($L tokenizer encode --tokenizer $G --file "$T/empty.txt")" ""
expect_eq "encode empty stdin" "$($L tokenizer encode --tokenizer $G < "$T/empty.txt")" ""
expect_eq "encode --count empty file" "$($L tokenizer encode --tokenizer $G --count --file "$T/empty.txt")" "0"
expect_eq "encode NUL bytes: --file == stdin" "$($L tokenizer encode --tokenizer $G --file "$T/bin.dat")" "$($L tokenizer encode --tokenizer $G < "$T/bin.dat")"
$L tokenizer decode --tokenizer $G $($L tokenizer encode --tokenizer $G --file "$T/bin.dat") > "$T/bin.back"
if cmp -s "$T/bin.dat" "$T/bin.back"; then ok "NUL bytes round trip"; else bad "NUL bytes round trip"; fi
mkfifo "$T/fifo"
expect_fail "encode a FIFO" "not a regular file" timeout 10 $L tokenizer encode --tokenizer $G --file "$T/fifo"
expect_fail "encode a directory" "not a regular file" $L tokenizer encode --tokenizer $G --file "$T"
expect_fail "encode a missing file" "cannot open" $L tokenizer encode --tokenizer $G --file "$T/missing.txt"

# streaming: a few MB of text with long lines, whitespace runs, CRLF and multi-byte characters give
# the ids of the in-memory encoding (--text, on a part small enough for argv) and decode back exactly
python3 - "$T/big.txt" "$T/small.txt" <<'PY'
import random, sys
random.seed(3)
words = ["the", "cat", "sat", "on", "mat", "caf\u00e9", "\u4e2d\u6587", "\U0001F600", "it's", "don't", "42", "3.14", "--", "\u00a0", "\u3000"]
seps = [" ", " ", " ", "  ", "\n", "\r\n", "\n\n", " \n", "\t", "   \n\n  ", "\n" * 40, " " * 300]
out = []
for i in range(60000):
    out.append(random.choice(words))
    out.append(random.choice(seps) if i % 10000 else "x" * 70000)  # and some very long lines without spaces
text = "".join(out)
open(sys.argv[1], "w", encoding="utf-8", newline="").write(text)
open(sys.argv[2], "w", encoding="utf-8", newline="").write(text[:60000].rstrip("\n"))
PY
expect_eq "small file: --file == --text" "$($L tokenizer encode --tokenizer $G --file "$T/small.txt")" "$($L tokenizer encode --tokenizer $G --text "$(cat "$T/small.txt")")"
$L tokenizer encode --tokenizer $G --file "$T/big.txt" > "$T/big.ids"
$L tokenizer encode --tokenizer $G < "$T/big.txt" > "$T/big.stdin.ids"
if cmp -s "$T/big.ids" "$T/big.stdin.ids"; then ok "big file: --file == stdin"; else bad "big file: --file != stdin"; fi
$L tokenizer decode --tokenizer $G < "$T/big.ids" > "$T/big.back"
if cmp -s "$T/big.txt" "$T/big.back"; then ok "big file round trip ($(wc -c < "$T/big.txt") bytes)"; else bad "big file round trip"; fi
expect_eq "big file --count" "$($L tokenizer encode --tokenizer $G --count --file "$T/big.txt")" "$(wc -w < "$T/big.ids")"
# bounded memory: 32 MB through the byte tokenizer (in memory that was 32 MB of text + 128 MB of ids)
head -c 32000000 /dev/zero | tr '\0' 'a' | fold -w 100 > "$T/huge.txt"
rss=$(python3 -c '
import resource, subprocess, sys
subprocess.run([sys.argv[1], "tokenizer", "encode", "--tokenizer", "bytes", "--count", "--file", sys.argv[2]], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' "$L" "$T/huge.txt")
if ldd "$L" 2>/dev/null | grep -q libasan; then ok "encode of 32 MB: peak $rss MB not checked under AddressSanitizer"
elif [ -n "$rss" ] && [ "$rss" -lt 40 ]; then ok "encode of 32 MB peaks at $rss MB"; else bad "encode of 32 MB peaks at ${rss:-?} MB (want < 40)"; fi
rm -f "$T/huge.txt"
expect_fail "decode id out of range" "out of range" $L tokenizer decode --tokenizer $G 15496 99999
expect_fail "decode non-number" "not a token id" $L tokenizer decode --tokenizer $G 15496 abc
expect_fail "unknown flag" "unknown flag" $L tokenizer encode --tokenizer $G --bogus
expect_fail "unknown subcommand" "unknown subcommand" $L tokenizer frobnicate
mkdir -p "$T/broken" && echo '{"a": 0' > "$T/broken/vocab.json" && echo '#version: 0.2' > "$T/broken/merges.txt"
expect_fail "broken vocab.json" "not valid JSON" $L tokenizer encode --tokenizer "$T/broken" --text hi
exit $fail
