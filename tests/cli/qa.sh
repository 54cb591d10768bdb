#!/usr/bin/env bash
# qa.sh — regressions found by walking the user flows as a user would: a config too big for memory
# is refused with exit 2 (exit 1 when forced and the allocation fails) and leaves no run directory
# behind (the same --out starts cleanly afterwards);
# binary, empty and too-short text exits 2 with a message that says what is wrong; a batch of more
# than 2^31 tokens says so; the default validation reaches every data domain (more than 8), and
# --resume keeps the run's --eval-batches; resume is bit-exact with --accum 2 on shards with --mix;
# sample stops with exit 1 on NaN weights (no junk text) and names a run dir's damaged config.json.
set -u
. "$(dirname "$0")/lib.bash"
cli_setup qa
# under AddressSanitizer a failed huge allocation must return NULL like malloc does, not abort
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1"

for i in $(seq 1 300); do echo "the cat sat on the mat $((i % 7)). a dog ran in the park $((i % 5))."; done > "$D/text.txt"
T="--data $D/text.txt --layers 1 --heads 2 --dim 32 --ctx 16 --batch 4 --threads 2 --steps 3 --quiet"

# activations of 10M x 16 tokens do not fit anywhere: refused before allocating (exit 2, the
# estimate), and with --ignore-memory-check the allocation fails (exit 1); no half-made run dir
expect 2 "GiB" train $T --out "$D/big" --batch 10000000
[ ! -e "$D/big" ] || fail "a refused start left $(ls "$D/big" | tr '\n' ' ') behind in its run dir"
expect 1 "out of memory" train $T --out "$D/big" --batch 10000000 --ignore-memory-check
[ ! -e "$D/big" ] || fail "a failed start left $(ls "$D/big" | tr '\n' ' ') behind in its run dir"
"$L" train $T --out "$D/big" || fail "the same --out cannot start after a failed start"
[ -s "$D/big/latest" ] || fail "no checkpoint after the retry"

expect 2 "2^31" train $T --out "$D/x" --batch 200000000 --ctx 16

# binary, empty and too-short text
head -c 4096 /dev/urandom > "$D/bin.txt"; printf 'abc\0def' >> "$D/bin.txt"
expect 2 "binary" train $T --out "$D/x" --data "$D/bin.txt"
: > "$D/empty.txt"
expect 2 "is empty" train $T --out "$D/x" --data "$D/empty.txt"
printf 'hello world' > "$D/tiny.txt"
err=$("$L" train $T --out "$D/x" --data "$D/tiny.txt" 2>&1); rc=$?
[ "$rc" = 2 ] || fail "tiny text exited $rc: $err"
grep -q "too short" <<<"$err" || fail "tiny text: unclear message: $err"
grep -q -- "--ctx 0" <<<"$err" && fail "tiny text suggests --ctx 0: $err"
[ ! -e "$D/x" ] || fail "bad input left a run dir"

# a corpus dir (of .txt files) given as --data: prepare it first, do not write shards into it
mkdir -p "$D/txtdir"; cp "$D/text.txt" "$D/txtdir/a.txt"
expect 2 "data prepare" train $T --out "$D/x" --data "$D/txtdir"
expect 2 "not token shards" train $T --out "$D/x" --data "$D/txtdir"

# nine domains of shards (bytes): the default validation measures all nine
mkdir -p "$D/corpus"
for d in a b c d e f g h i; do
  for k in $(seq 1 30); do echo "domain $d document $k says $d$d$d $((k * 7 % 11)) things."; echo '<|endoftext|>'; done > "$D/corpus/$d.txt"
done
"$L" data prepare --out "$D/shards" "$D/corpus" >/dev/null 2>&1 || fail "data prepare"
S="--data $D/shards --layers 1 --heads 2 --dim 32 --ctx 8 --batch 2 --threads 2 --eval-interval 5 --quiet"
"$L" train $S --out "$D/nine" --steps 5 || fail "train on nine domains"
grep -q '"eval_batches": 9' "$D/nine/config.json" || fail "eval_batches not resolved to one per domain: $(grep eval_batches "$D/nine/config.json")"
n=$(tail -1 "$D/nine/metrics.jsonl" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["val_loss_domains"]))')
[ "$n" = 9 ] || fail "val_loss_domains has $n domains, want 9"
"$L" train $S --out "$D/few" --steps 5 --eval-batches 3 || fail "train with --eval-batches 3"
"$L" train --out "$D/few" --resume --steps 10 --eval-interval 5 --quiet || fail "resume with --eval-interval"
grep -q '"eval_batches": 3' "$D/few/config.json" || fail "resume with --eval-interval reset --eval-batches"
expect 2 "eval-batches" train --out "$D/few" --resume --steps 12 --eval-batches 0

# bit-exact resume: shards, a domain mix and gradient accumulation (constant lr, fixed warmup)
M="--data $D/shards --mix a=3,b=1,i=2 --accum 2 --layers 1 --heads 2 --dim 32 --ctx 8 --batch 2 --threads 2 \
   --schedule constant --warmup 2 --eval-interval 4 --quiet"
"$L" train $M --out "$D/one" --steps 12 || fail "one go"
"$L" train $M --out "$D/two" --steps 5 || fail "first part"
"$L" train --out "$D/two" --resume --steps 12 --quiet || fail "resume"
losses() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    o=json.loads(l)  # the split run also measures val at its stop (step 5): compare on the shared steps
    print(o["step"], repr(o["loss"]), repr(o.get("val_loss")) if o["step"] % 4 == 0 else "")' "$1/metrics.jsonl"; }
[ "$(losses "$D/one" | wc -l)" = 12 ] || fail "metrics.jsonl has $(losses "$D/one" | wc -l) lines"
diff <(losses "$D/one") <(losses "$D/two") >&2 || fail "resume with --accum 2 and --mix is not bit-exact"
cmp -s "$D/one/checkpoints/step_00000012.safetensors" "$D/two/checkpoints/step_00000012.safetensors" ||
  fail "final weights differ after resume"

# sample: NaN weights are an error, not junk text; a run dir with a damaged config.json says so
cp -r "$D/one" "$D/nan"
python3 - "$D/nan/checkpoints/step_00000012.safetensors" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read()); b[-64:] = b'\xff' * 64; open(sys.argv[1], 'wb').write(b)
PY
# a run on byte-level shards ('data prepare' without --tokenizer) samples with bytes, with or without --tokenizer bytes
[ "$("$L" sample --model "$D/one" --prompt "do" --tokens 4 --temperature 0 2>/dev/null | head -c 2)" = do ] ||
  fail "cannot sample from a run on byte-level shards: $("$L" sample --model "$D/one" --prompt do --tokens 4 2>&1)"
"$L" sample --model "$D/one" --prompt "do" --tokens 4 --tokenizer bytes >/dev/null 2>&1 || fail "sample --tokenizer bytes"
expect 1 "not finite" sample --model "$D/nan" --prompt "a" --tokens 5
"$L" sample --model "$D/one" --prompt "a" --tokens 5 >/dev/null 2>&1 || fail "sample from the good run"
# a byte-level run with a padded vocabulary (--vocab 320, as nanoGPT pads 50257 to 50304) samples with bytes
"$L" train $T --out "$D/padded" --vocab 320 || fail "train --vocab 320"
"$L" sample --model "$D/padded" --prompt "the" --tokens 4 >/dev/null 2>"$D/pad.err" || fail "sample from a padded-vocab byte run: $(cat "$D/pad.err")"
"$L" sample --model "$D/padded/checkpoints/step_00000003.safetensors" --prompt "the" --tokens 4 >/dev/null 2>"$D/pad.err" ||
  fail "sample from a padded-vocab byte checkpoint file: $(cat "$D/pad.err")"
cp -r "$D/one" "$D/badcfg"; echo '{oops' > "$D/badcfg/config.json"
expect 1 "config.json is damaged" sample --model "$D/badcfg" --prompt "a" --tokens 5
exit 0
