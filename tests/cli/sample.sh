#!/usr/bin/env bash
# sample.sh — 'lmscope sample' from a tiny trained run: the same seed gives the same text, greedy
# (temperature 0) is deterministic and equals top-k 1, a run dir and its checkpoint file give the
# same text, and bad input (paths, flags, a prompt longer than the context) fails clearly.
set -u
. "$(dirname "$0")/lib.bash"
cli_setup sample
for i in $(seq 1 300); do echo "the cat sat on the mat. a dog ran in the park $((i % 9)). birds sing."; done > "$D/text.txt"
"$L" train --data "$D/text.txt" --out "$D/run" --layers 1 --heads 2 --dim 32 --ctx 32 --batch 8 --steps 60 \
    --lr 1e-2 --threads 2 --quiet || fail "training the tiny run"

s() { "$L" sample --model "$D/run" --prompt "the cat" --tokens 40 --threads 2 "$@"; }
a=$(s --seed 5) || fail "sample exited $?"
b=$(s --seed 5)
c=$(s --seed 6)
[ "$a" = "$b" ] || fail "same seed, different text: '$a' vs '$b'"
[ "$a" != "$c" ] || fail "seeds 5 and 6 gave the same text: '$a'"
case "$a" in "the cat"*) ;; *) fail "output does not start with the prompt: '$a'";; esac
[ ${#a} -gt 20 ] || fail "too little output: '$a'"
g1=$(s --temperature 0 --seed 1)
g2=$(s --temperature 0 --seed 2)
k1=$(s --temperature 1 --top-k 1 --seed 3)
[ "$g1" = "$g2" ] || fail "greedy depends on the seed"
[ "$g1" = "$k1" ] || fail "greedy differs from top-k 1: '$g1' vs '$k1'"
f=$("$L" sample --model "$D/run/checkpoints/$(cat "$D/run/latest").safetensors" --prompt "the cat" --tokens 40 \
    --threads 2 --seed 5) || fail "sampling from the checkpoint file"
[ "$a" = "$f" ] || fail "run dir and checkpoint file differ: '$a' vs '$f'"
# long generations slide past the 32-token context
long=$(s --tokens 100 --temperature 0) || fail "100 tokens past a 32-token context"
[ ${#long} -ge 100 ] || fail "sliding window output too short: ${#long} bytes"

expect 2 "no such file" sample --model "$D/nope" --prompt x
expect 2 "--model" sample --prompt x
expect 1 "" sample --model "$D/text.txt" --prompt x
expect 2 "context" sample --model "$D/run" --prompt "$(head -c 200 "$D/text.txt")"
expect 2 "--temperature" sample --model "$D/run" --temperature -1
expect 2 "--top-p" sample --model "$D/run" --top-p 0
expect 2 "optimizer state" sample --model "$D/run/checkpoints/$(cat "$D/run/latest").optim.safetensors"
mkdir -p "$D/empty"
expect 1 "" sample --model "$D/empty"
echo "sample.sh: ok"
