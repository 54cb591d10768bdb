#!/usr/bin/env bash
# resume_schedule.sh — extending a cosine run with --resume --steps keeps the decay horizon the run
# started with: 12 steps then --resume --steps 20 equals one 20-step run with --decay-steps 12,
# loss for loss and lr for lr (past the horizon the lr stays at its final value); --decay-steps on
# resume re-plans it explicitly. Also: train --tokenizer bytes is the byte default; --resume with
# only --eval-batches keeps the run's --eval-interval; plain shards with an impossible token id are
# a format error (not an abort); an empty grep pattern is a usage error; sample --bf16 decodes.
set -u
L=${LMSCOPE:-./lmscope}
D=$(mktemp -d /tmp/lms_cli_sched.XXXXXX)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for i in $(seq 1 300); do echo "the cat sat on the mat $((i % 7)). a dog ran in the park $((i % 5))."; done > "$D/text.txt"
T="--data $D/text.txt --tokenizer bytes --layers 1 --heads 2 --dim 32 --ctx 16 --batch 4 --threads 2 --quiet"
S="$T --lr 3e-3 --schedule cosine --warmup 2 --eval-interval 5 --seed 5"

"$L" train $S --out "$D/one" --steps 20 --decay-steps 12 || fail "one go"
"$L" train $S --out "$D/two" --steps 12 || fail "first part"
grep -q '"decay_steps": 12' "$D/two/config.json" || fail "config.json does not record the resolved horizon: $(grep decay "$D/two/config.json")"
"$L" train --out "$D/two" --resume --steps 20 || fail "resume with more steps"
cols() { sed -E 's/.*"step":([0-9]+),.*"loss":([^,}]*).*"lr":([^,}]*).*/\1 \2 \3/' "$1/metrics.jsonl"; }
[ "$(cols "$D/one" | wc -l)" = 20 ] || fail "want 20 metric lines"
diff <(cols "$D/one") <(cols "$D/two") >&2 || fail "extended cosine run differs from a run planned with the same horizon"
last_lr=$(cols "$D/two" | tail -1 | cut -d' ' -f3)
at_horizon=$(cols "$D/two" | sed -n 13p | cut -d' ' -f3)   # logged step 13 = 0-based step 12 = the horizon
[ "$last_lr" = "$at_horizon" ] || fail "lr past the horizon moved: $at_horizon at step 13, $last_lr at step 20"

# an explicit --decay-steps on resume re-plans the horizon (and is recorded)
"$L" train --out "$D/two" --resume --steps 24 --decay-steps 30 || fail "resume with --decay-steps"
grep -q '"decay_steps": 30' "$D/two/config.json" || fail "re-planned horizon not recorded"
"$L" train --out "$D/two" --resume --steps 26 --decay-steps 0 >/dev/null 2>&1 && fail "--decay-steps 0 on resume accepted"

# --resume with only --eval-batches keeps the run's --eval-interval
"$L" train $S --out "$D/ev" --steps 10 --eval-interval 5 || fail "train with --eval-interval 5"
"$L" train --out "$D/ev" --resume --steps 20 --eval-batches 2 || fail "resume with --eval-batches"
grep -q '"eval_interval": 5' "$D/ev/config.json" || fail "resume reset eval_interval: $(grep eval_interval "$D/ev/config.json")"
[ "$(grep -c '"val_loss":' "$D/ev/metrics.jsonl")" = 4 ] || fail "want val_loss at steps 5, 10, 15, 20: $(grep -c '"val_loss":' "$D/ev/metrics.jsonl")"

# plain llm.c-style shards (no manifest) holding an id no vocabulary has: a format error, not an abort
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
"$PY" - "$D" <<'PY' || fail "could not write the bad shards"
import os, struct, sys
d = sys.argv[1]
os.makedirs(f"{d}/badsh", exist_ok=True)
toks = [1, 2, 3] * 20 + [0xFFFFFFFF] + [4, 5] * 10
for name in ("x_train_000000.bin", "x_val_000000.bin"):
    with open(f"{d}/badsh/{name}", "wb") as f:
        f.write(struct.pack("<256i", 20240520, 2, len(toks), *([0] * 253)) + struct.pack(f"<{len(toks)}I", *toks))
PY
for extra in "" "--vocab 256"; do
  err=$("$L" train --data "$D/badsh" --out "$D/bad$RANDOM" --layers 1 --heads 1 --dim 8 --ctx 8 --batch 2 --steps 2 --quiet $extra 2>&1); rc=$?
  { [ $rc = 1 ] || [ $rc = 2 ]; } && grep -q "beyond any vocabulary" <<<"$err" || fail "bad token id in plain shards ($extra): exit $rc: $err"
done

# empty grep pattern: usage error (exit 2), with a message
err=$("$L" data grep "" "$D" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "empty" <<<"$err" || fail "data grep '' exited $rc: $err"

# sample --bf16 decodes (the greedy text may differ slightly from fp32's; both start with the prompt)
out=$("$L" sample --model "$D/one" --prompt "the cat" --tokens 8 --temperature 0 --bf16) || fail "sample --bf16"
[ "${out:0:7}" = "the cat" ] || fail "sample --bf16 output: $out"
exit 0
