#!/usr/bin/env bash
# train_runs.sh — run-directory behaviour of 'lmscope train' from the command line: --init starts
# a new run from a run dir / checkpoint / Hugging Face dir / llm.c .bin and refuses flags and tokenizers that
# contradict the init model; --save-log-steps keeps steps 0,1,2,4,8,16 besides the regular
# checkpoints (also across --resume); --tokenizer bytes on BPE shards is refused; FIFOs as model,
# data, tokenizer or text files are refused at once; a second train on a run dir in use exits 1;
# a model too big for memory exits 2 with the estimate; an optimizer file from another step is
# refused on resume.
set -u
L=${LMSCOPE:-./lmscope}
D=$(mktemp -d /tmp/lms_cli_runs.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$D"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {
  local want=$1 pat=$2; shift 2
  local err rc
  err=$(timeout 60 "$L" "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" = "$want" ] || fail "lmscope $* exited $rc, want $want: $err"
  grep -q -- "$pat" <<<"$err" || fail "lmscope $*: message lacks '$pat': $err"
}

for i in $(seq 1 300); do echo "the cat sat on the mat $((i % 7)). a dog ran in the park $((i % 5))."; done > "$D/text.txt"
Q="--data $D/text.txt --batch 4 --threads 2 --quiet"
T="$Q --layers 1 --heads 2 --dim 32 --ctx 16"

# --save-log-steps: 20 steps, regular checkpoints every 5, keep 2
"$L" train $T --out "$D/a" --steps 20 --ckpt-interval 5 --keep 2 --save-log-steps || fail "train --save-log-steps"
ck() { ls "$1/checkpoints" | sed -n -E 's/^step_0*([0-9]+)\.safetensors$/\1/p' | sort -n | tr '\n' ' '; }
[ "$(ck "$D/a")" = "0 1 2 4 8 15 16 20 " ] || fail "--save-log-steps kept checkpoints at steps $(ck "$D/a")"
grep -q '"save_log_steps": true' "$D/a/config.json" || fail "config.json lacks save_log_steps"
"$L" train $T --out "$D/a2" --steps 10 --ckpt-interval 5 --keep 2 --save-log-steps || fail "first half"
"$L" train --out "$D/a2" --resume --steps 20 --quiet || fail "resume with --save-log-steps"
[ "$(ck "$D/a2")" = "0 1 2 4 8 15 16 20 " ] || fail "after --resume: checkpoints at steps $(ck "$D/a2")"
"$L" train $T --out "$D/a3" --steps 20 --ckpt-interval 5 --keep 2 || fail "train without --save-log-steps"
[ "$(ck "$D/a3")" = "15 20 " ] || fail "without --save-log-steps: checkpoints at steps $(ck "$D/a3")"

# --init: from a run dir and a checkpoint file; the shape comes from the model
"$L" train $Q --init "$D/a" --out "$D/b" --steps 2 || fail "train --init run dir"
grep -q "\"init\": \"$D/a\"" "$D/b/config.json" || fail "config.json does not record init: $(grep init "$D/b/config.json")"
grep -q '"n_embd": 32' "$D/b/config.json" || fail "the shape did not come from the init model"
"$L" train $Q --init "$D/a/checkpoints/step_00000016.safetensors" --layers 1 --out "$D/b2" --steps 2 ||
  fail "train --init checkpoint file (with an agreeing --layers)"
expect 2 "--dim 64.*width 32" train $Q --init "$D/a" --out "$D/x" --dim 64
expect 2 "--heads 4.*heads 2" train $Q --init "$D/a" --out "$D/x" --heads 4
expect 2 "no such file" train $Q --init "$D/nothing" --out "$D/x"
# ... and from a Hugging Face GPT-2 directory and an llm.c .bin (a tiny random GPT-2 with its real
# 50,257-token vocabulary, written by gpt2_formats.py)
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
here=$(cd "$(dirname "$0")" && pwd)
"$PY" "$here/gpt2_formats.py" "$D/g" "$here/../fixtures/gpt2" || fail "could not write the GPT-2 test model"
"$L" train --data "$D/text.txt" --init "$D/g/hf" --tokenizer "$D/g/hf" --out "$D/hf" --steps 2 --batch 2 --threads 2 --quiet ||
  fail "train --init a Hugging Face dir"
grep -q '"vocab_size": 50257' "$D/hf/config.json" && grep -q '"n_embd": 8' "$D/hf/config.json" || fail "shape not from the HF model"
"$L" train --data "$D/text.txt" --init "$D/g/gpt2_tiny.bin" --tokenizer "$D/g/hf" --out "$D/llmc" --steps 2 --batch 2 \
  --threads 2 --quiet || fail "train --init an llm.c .bin"
[ -e "$D/x" ] && fail "a refused --init left $D/x behind"

# --tokenizer bytes on BPE shards is a mismatch; on text it is the default byte tokenizer
mkdir -p "$D/corpus"
for d in cats dogs; do
  for i in $(seq 1 60); do printf 'the %s number %d sat on the mat and ran in the park.\n<|endoftext|>\n' "$d" "$i"; done > "$D/corpus/$d.txt"
done
"$L" tokenizer train --vocab-size 300 --out "$D/tok" "$D/corpus/cats.txt" "$D/corpus/dogs.txt" >/dev/null 2>&1 || fail "tokenizer train"
"$L" data prepare --tokenizer "$D/tok" --out "$D/shards" "$D/corpus" >/dev/null 2>&1 || fail "data prepare"
S="--layers 1 --heads 2 --dim 32 --ctx 16 --batch 4 --threads 2 --steps 2 --quiet"
expect 2 "tokenizer" train --data "$D/shards" --tokenizer bytes --out "$D/x" $S
[ -e "$D/x" ] && fail "a refused --tokenizer bytes left $D/x behind"
"$L" train $T --tokenizer bytes --out "$D/bt" --steps 2 || fail "--tokenizer bytes on text"
# a model trained on the BPE shards, then --init with byte-tokenized text: the tokenizer differs
"$L" train --data "$D/shards" --out "$D/bpe" $S || fail "train on BPE shards"
expect 2 "tokenizer" train $Q --init "$D/bpe" --out "$D/x" --steps 2

# FIFOs are refused at once (a plain open() would wait for a writer forever)
mkfifo "$D/fifo" "$D/fifo.bin" "$D/fifo.safetensors"
mkdir -p "$D/ftok" && mkfifo "$D/ftok/vocab.json" && cp "$D/tok/merges.txt" "$D/ftok/"
expect 1 "FIFO" train --data "$D/fifo" --out "$D/x" $S
expect 1 "FIFO" train $T --init "$D/fifo.bin" --out "$D/x" --steps 2
expect 1 "FIFO" train $T --init "$D/fifo.safetensors" --out "$D/x" --steps 2
r=$(timeout 20 "$L" train $T --tokenizer "$D/ftok" --out "$D/x" --steps 2 2>&1); rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q FIFO <<<"$r" || fail "a FIFO vocab.json: exit $rc: $r"
r=$(timeout 20 "$L" sample --model "$D/fifo.safetensors" --prompt a --tokens 2 2>&1); rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q FIFO <<<"$r" || fail "sample --model FIFO: exit $rc: $r"
r=$(timeout 20 "$L" tokenizer encode --tokenizer "$D/tok" --file "$D/fifo" 2>&1); rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q FIFO <<<"$r" || fail "tokenizer encode --file FIFO: exit $rc: $r"

# a run dir in use: a --resume while it trains, or a new start into a dir whose lock is held, exits 1
"$L" train $T --out "$D/busy" --steps 1000000 --ckpt-interval 0 2>/dev/null &
pid=$!
for _ in $(seq 1 600); do [ -s "$D/busy/metrics.jsonl" ] && break; sleep 0.05; done
expect 1 "in use" train --out "$D/busy" --resume
kill -INT "$pid"; wait "$pid"
"$L" train --out "$D/busy" --resume --steps "$(( $(wc -l <"$D/busy/metrics.jsonl") + 2 ))" --quiet || fail "resume after the first let go"
mkdir -p "$D/race"
flock "$D/race/lock" sleep 30 &
lpid=$!
for _ in $(seq 1 100); do flock -n "$D/race/lock" true || break; sleep 0.05; done
expect 1 "in use" train $T --out "$D/race" --steps 2
[ -e "$D/race/config.json" ] && fail "a refused start wrote config.json"
kill "$lpid"; wait "$lpid" 2>/dev/null

# a plan far beyond memory fails fast with the estimate (under ulimit -v, so that without the
# check the allocation fails at once instead of eating the machine; not under AddressSanitizer,
# whose shadow memory needs more address space than that)
lim=4000000
ldd "$L" 2>/dev/null | grep -q libasan && lim=unlimited
err=$(ulimit -v $lim; timeout 60 "$L" train $T --out "$D/huge" --dim 8192 --layers 256 --heads 8 2>&1); rc=$?
[ "$rc" = 2 ] && grep -q "GiB" <<<"$err" || fail "a 200G-parameter plan: exit $rc: $err"
expect 2 "GiB" train $T --out "$D/huge" --dim 65536 --layers 64
[ -e "$D/huge" ] && fail "a refused plan left $D/huge behind"

# an optimizer file from another step next to the model file
"$L" train $T --out "$D/o" --steps 10 --ckpt-interval 5 --keep 3 || fail "train for the optimizer test"
cp "$D/o/checkpoints/step_00000005.optim.safetensors" "$D/o/checkpoints/step_00000010.optim.safetensors"
expect 1 "train_step 10.*says 5" train --out "$D/o" --resume --steps 20
echo "train_runs.sh: ok"
