#!/usr/bin/env bash
# device.sh — --device on train, sample, eval and bench: an unknown name exits 2 naming the choices;
# --device cuda without a usable CUDA table (a build without CUDA=1, or no GPU) exits 1 saying
# which and how to fix it, before any work; --device cpu is the default and changes nothing.
# (With a GPU and a CUDA build, tests/cuda/cli_device.sh covers the device itself.)
set -u
. "$(dirname "$0")/lib.bash"
cli_setup device
for i in $(seq 1 100); do echo "the cat sat on the mat $((i % 7))."; done >"$D/t.txt"
T="--data $D/t.txt --layers 1 --heads 2 --dim 16 --ctx 16 --batch 2 --threads 2 --quiet --steps 2"
B="--layers 1 --heads 2 --dim 16 --vocab 32 --batch 1 --ctx 8 --steps 1 --warmup 0 --ceiling-size 0"
expect 2 "use cpu or cuda" train $T --out "$D/x" --device tpu
expect 2 "use cpu or cuda" bench $B --device tpu
[ -e "$D/x" ] && fail "a refused run left $D/x behind"
"$L" train $T --out "$D/run" --device cpu || fail "train --device cpu"
expect 2 "use cpu or cuda" sample --model "$D/run" --device tpu
expect 2 "use cpu or cuda" eval --model "$D/run" --device tpu --domains
if "$L" bench $B --device cuda >/dev/null 2>&1; then
  echo "SKIPPED: a CUDA device is usable here; tests/cuda/cli_device.sh covers it"
  exit 0
fi
why="make CUDA=1\|no usable CUDA device"
expect 1 "$why" train $T --out "$D/y" --device cuda
expect 1 "$why" bench $B --device cuda
expect 1 "$why" sample --model "$D/run" --device cuda
expect 1 "$why" eval --model "$D/run" --device cuda --domains
[ -e "$D/y" ] && fail "a refused run left $D/y behind"
"$L" bench $B --device cpu | grep -q '"mode":"train"' || fail "bench --device cpu"
exit 0
