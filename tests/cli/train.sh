#!/usr/bin/env bash
# train.sh — 'lmscope train' end to end: bad flags exit 2 with a clear message before any work;
# a run writes config.json, metrics.jsonl, checkpoints and latest; --steps 10 then --resume to 20
# gives the same per-step losses as 20 in one go; SIGINT saves and exits 130, SIGTERM 143, and
# the resumed run matches an uninterrupted one; a huge --lr stops with a diagnostic, exit 1,
# keeping the last good checkpoint; --data-seed changes the data order alone.
set -u
. "$(dirname "$0")/lib.bash"
cli_setup train

tiny_text "$D/text.txt"

T="--data $D/text.txt --layers 1 --heads 2 --dim 32 --ctx 16 --batch 4 --threads 2 --quiet"
expect 2 "--layers" train $T --out "$D/x" --layers 0
expect 2 "does not divide" train $T --out "$D/x" --heads 3
expect 2 "--batch" train $T --out "$D/x" --batch 0
expect 2 "--lr" train $T --out "$D/x" --lr -0.1
expect 2 "--ctx" train $T --out "$D/x" --ctx 100000
expect 2 "--out" train $T
expect 2 "no such file" train --data "$D/missing.txt" --out "$D/x"
expect 2 "--schedule" train $T --out "$D/x" --schedule linear
expect 2 "no run to resume" train --out "$D/nothing" --resume
[ -e "$D/x" ] && fail "a rejected run left $D/x behind"
"$L" train --help | grep -q -- "--resume" || fail "train --help lacks --resume"

# one go vs. split + resume (constant lr after a fixed warmup, so --steps does not change the schedule)
S="$T --lr 3e-3 --schedule constant --warmup 3 --eval-interval 5 --seed 3"
"$L" train $S --out "$D/one" --steps 20 || fail "train one go"
"$L" train $S --out "$D/two" --steps 10 || fail "train first half"
expect 2 "already holds a run" train $S --out "$D/two" --steps 10
expect 2 "cannot change when resuming" train --out "$D/two" --resume --layers 2
"$L" train --out "$D/two" --resume --steps 20 --quiet || fail "resume"
for f in config.json metrics.jsonl latest; do [ -s "$D/one/$f" ] || fail "run dir lacks $f"; done
[ -s "$D/one/checkpoints/step_00000020.safetensors" ] || fail "no final checkpoint"
[ -s "$D/one/checkpoints/step_00000020.optim.safetensors" ] || fail "no optimizer state"
[ "$(cat "$D/one/latest")" = "step_00000020" ] || fail "latest is $(cat "$D/one/latest")"
losses() { sed -E 's/.*"step":([0-9]+),.*"loss":([^,}]*).*/\1 \2/' "$1/metrics.jsonl"; }
[ "$(losses "$D/one" | wc -l)" = 20 ] || fail "metrics.jsonl has $(losses "$D/one" | wc -l) lines, want 20"
[ "$(losses "$D/two" | wc -l)" = 20 ] || fail "resumed metrics.jsonl has $(losses "$D/two" | wc -l) lines, want 20"
diff <(losses "$D/one") <(losses "$D/two") >&2 || fail "resumed losses differ from the uninterrupted run"
grep -q '"val_loss"' "$D/one/metrics.jsonl" || fail "no val_loss in metrics"
for k in tokens flops lr tokens_per_s grad_norm elapsed_s; do
  grep -q "\"$k\":" "$D/one/metrics.jsonl" || fail "metrics lack $k"
done
grep -q '"tokenizer"' "$D/one/config.json" && grep -q '"schedule": "constant"' "$D/one/config.json" || fail "config.json incomplete"
# --data-seed (a row of the config-field table): the data order alone; the default 0, or --seed itself,
# is the run of before it existed (no key in config.json); another value changes the batches, not the
# init; --resume cannot change it
! grep -q data_seed "$D/one/config.json" || fail "config.json of a default run holds data_seed"
"$L" train $S --out "$D/ds3" --steps 4 --data-seed 3 || fail "train --data-seed 3"
"$L" train $S --out "$D/ds9" --steps 4 --data-seed 9 || fail "train --data-seed 9"
diff <(losses "$D/one" | head -4) <(losses "$D/ds3") >&2 || fail "--data-seed = --seed changed the run"
[ "$(losses "$D/one" | head -1)" != "$(losses "$D/ds9" | head -1)" ] || fail "--data-seed 9 did not change the first batch"
grep -q '"data_seed": "9"' "$D/ds9/config.json" || fail "config.json lacks data_seed"
expect 2 "cannot change when resuming" train --out "$D/ds9" --resume --data-seed 3

# SIGINT: finish the step, save, exit 130, resume continues exactly
I="$T --lr 3e-3 --schedule constant --warmup 3 --seed 5"
"$L" train $I --out "$D/int" --steps 1000000 --ckpt-interval 0 2>"$D/int.err" &
pid=$!
for _ in $(seq 1 600); do
  [ -f "$D/int/metrics.jsonl" ] && [ "$(wc -l <"$D/int/metrics.jsonl")" -ge 8 ] && break
  sleep 0.05
done
kill -INT "$pid"
wait "$pid"; rc=$?
[ "$rc" = 130 ] || fail "SIGINT: exit $rc, want 130: $(cat "$D/int.err")"
grep -q "resume with: lmscope train --out" "$D/int.err" || fail "SIGINT: no resume hint: $(cat "$D/int.err")"
k=$(sed -E 's/step_0*//' "$D/int/latest")
[ "$k" -ge 8 ] || fail "SIGINT: saved step $k"
n=$((k + 5))
"$L" train --out "$D/int" --resume --steps "$n" --quiet || fail "resume after SIGINT"
"$L" train $I --out "$D/ref" --steps "$n" --ckpt-interval 0 || fail "reference run"
diff <(losses "$D/ref") <(losses "$D/int") >&2 || fail "losses after SIGINT + resume differ from an uninterrupted run"

# SIGTERM: exit 143
"$L" train --out "$D/int" --resume --steps 1000000 2>"$D/term.err" &
pid=$!
for _ in $(seq 1 600); do
  [ "$(wc -l <"$D/int/metrics.jsonl")" -ge $((n + 3)) ] && break
  sleep 0.05
done
kill -TERM "$pid"
wait "$pid"; rc=$?
[ "$rc" = 143 ] || fail "SIGTERM: exit $rc, want 143: $(cat "$D/term.err")"

# divergence: stop with a diagnostic, keep the last good checkpoint
err=$("$L" train $T --out "$D/nan" --steps 50 --lr 1e6 --warmup 0 --grad-clip 0 --ckpt-interval 1 2>&1); rc=$?
[ "$rc" = 1 ] || fail "--lr 1e6: exit $rc, want 1: $err"
grep -q "diverged" <<<"$err" && grep -q "learning rate" <<<"$err" || fail "--lr 1e6: no diagnostic: $err"
good=$(cat "$D/nan/latest")
[ -s "$D/nan/checkpoints/$good.safetensors" ] || fail "latest ($good) points to a missing checkpoint"
last=$(losses "$D/nan" | tail -1 | cut -d' ' -f1)
[ "$good" = "$(printf 'step_%08d' "$last")" ] || fail "latest $good is not the last logged finite step $last"
# several text files, and a shards dir with a BPE tokenizer, a domain mix and the tokenizer check
head -c 20000 "$D/text.txt" > "$D/a.txt"; tail -c 20000 "$D/text.txt" > "$D/b.txt"
"$L" train --data "$D/a.txt" "$D/b.txt" --out "$D/multi" --layers 1 --heads 2 --dim 32 --ctx 16 --batch 4 \
    --steps 3 --quiet || fail "training on two text files"
grep -q "b.txt" "$D/multi/config.json" || fail "config.json lacks the second data file"
mkdir -p "$D/corpus"
for d in cats dogs; do
  for i in $(seq 1 60); do printf 'the %s number %d sat on the mat and ran in the park.\n<|endoftext|>\n' "$d" "$i"; done > "$D/corpus/$d.txt"
done
"$L" tokenizer train --vocab-size 300 --out "$D/tok" "$D/corpus/cats.txt" "$D/corpus/dogs.txt" >/dev/null 2>&1 || fail "tokenizer train"
"$L" data prepare --tokenizer "$D/tok" --out "$D/shards" "$D/corpus" >/dev/null 2>&1 || fail "data prepare"
"$L" train --data "$D/shards" --tokenizer "$D/tok" --mix cats=3,dogs=1 --out "$D/sh" --layers 1 --heads 2 --dim 32 \
    --ctx 16 --batch 4 --steps 4 --quiet || fail "training on shards"
grep -q '"vocab_size": 300' "$D/sh/config.json" || fail "vocab size not taken from the tokenizer"
grep -q '"mix": "cats=3,dogs=1"' "$D/sh/config.json" || fail "mix not recorded"
tail -1 "$D/sh/metrics.jsonl" | grep -q '"val_loss_domains":{"cats":[0-9.]*,"dogs":' || fail "no per-domain validation loss"
grep -q "\"tokenizer\": \"$(cd "$D/tok" && pwd)\"" "$D/sh/config.json" || fail "tokenizer dir not recorded"
"$L" sample --model "$D/sh" --prompt "the cats" --tokens 5 >/dev/null || fail "sampling a shards run (tokenizer from config.json)"
expect 2 "mix\|domain" train --data "$D/shards" --mix birds=1 --out "$D/x" --layers 1 --heads 2 --dim 32 --ctx 16 --steps 2
"$L" tokenizer train --vocab-size 280 --out "$D/tok2" "$D/corpus/cats.txt" >/dev/null 2>&1 || fail "tokenizer train 2"
expect 2 "tokenizer" train --data "$D/shards" --tokenizer "$D/tok2" --out "$D/x" --layers 1 --heads 2 --dim 32 --ctx 16 --steps 2
[ -e "$D/x" ] && fail "a rejected run left $D/x behind"
echo "train.sh: ok"
