#!/usr/bin/env bash
# train_crash.sh — 'lmscope train' killed with SIGKILL at every point of a checkpoint (the
# LMSCOPE_TEST_CRASH hook: after the metrics line, the model file, the optimizer file, `latest`)
# and at random moments, then resumed to the end: metrics.jsonl holds steps 1..N exactly once each,
# the losses equal an uninterrupted run's bit for bit, and stale temporaries are removed on resume.
set -u
L=${LMSCOPE:-./lmscope}
D=$(mktemp -d /tmp/lms_cli_crash.XXXXXX)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for i in $(seq 1 300); do echo "the cat sat on the mat $((i % 7)). a dog ran in the park $((i % 5))."; done > "$D/text.txt"
T="--data $D/text.txt --layers 1 --heads 2 --dim 32 --ctx 16 --batch 4 --threads 2 --quiet --lr 3e-3 --schedule constant \
   --warmup 2 --eval-interval 4 --seed 9"
steps() { sed -E 's/^\{"step":([0-9]+),.*/\1/' "$1/metrics.jsonl" | tr '\n' ' ' | sed 's/ $//'; }
losses() { sed -E 's/^\{"step":([0-9]+),.*"loss":([^,}]*).*/\1 \2/' "$1/metrics.jsonl"; }

"$L" train $T --out "$D/ref" --steps 12 --ckpt-interval 4 || fail "reference run"
want=$(seq -s ' ' 1 12)
[ "$(steps "$D/ref")" = "$want" ] || fail "reference run logged steps $(steps "$D/ref")"

for point in metrics model optim latest; do
  R="$D/$point"
  LMSCOPE_TEST_CRASH="$point:8" "$L" train $T --out "$R" --steps 12 --ckpt-interval 4 2>/dev/null; rc=$?
  [ "$rc" = 137 ] || fail "$point: the crash hook did not kill the run (exit $rc)"
  # leftovers of a killed writer
  echo junk > "$R/checkpoints/step_00000012.safetensors.tmp.99999"
  echo junk > "$R/metrics.jsonl.tmp.99999"
  "$L" train --out "$R" --resume --quiet || fail "$point: resume after kill -9"
  [ "$(steps "$R")" = "$want" ] || fail "$point: steps in metrics.jsonl after kill -9 and resume: $(steps "$R")"
  diff <(losses "$D/ref") <(losses "$R") >&2 || fail "$point: losses differ from the uninterrupted run"
  ls "$R" "$R/checkpoints" | grep -q '\.tmp\.' && fail "$point: stale temporaries survived the resume: $(ls "$R" "$R/checkpoints")"
done

# kill -9 at random moments (after the first checkpoint, so that there is something to resume)
R="$D/random"
N=40
"$L" train $T --out "$R" --steps $N --ckpt-interval 2 --eval-interval 25 2>/dev/null &
pid=$!
for k in 1 2 3; do
  for _ in $(seq 1 300); do [ -s "$R/latest" ] && break; sleep 0.02; done
  sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  "$L" train --out "$R" --resume --quiet 2>/dev/null &
  pid=$!
done
wait "$pid" || fail "the last resume failed"
[ "$(steps "$R")" = "$(seq -s ' ' 1 $N)" ] || fail "random kills: steps in metrics.jsonl are not 1..$N once each: $(steps "$R")"
echo "train_crash.sh: ok"
