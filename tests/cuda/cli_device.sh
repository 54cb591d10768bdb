#!/usr/bin/env bash
# cli_device.sh — the commands on the GPU end to end (run by tools/gpu_check.sh; needs a CUDA build
# and a GPU): train --device cuda learns and matches the CPU's per-step losses within the fp32
# bound (1e-4 relative); 10 steps + --resume to 20 on the device gives the same losses and the
# same checkpoint bytes as 20 in one go (bit-exact resume); a run switches devices on --resume
# (the files are the same); sample --device cuda decodes the run (greedy text compared with the
# CPU's, a difference noted);
# eval --domains --device cuda scores it as the CPU does (1e-4).
#   LMSCOPE=build-cuda/lmscope tests/cuda/cli_device.sh
set -u
. "$(dirname "$0")/../cli/lib.bash"
LMSCOPE=${LMSCOPE:-./build-cuda/lmscope}
cli_setup device
tiny_text "$D/text.txt"
S="--data $D/text.txt --layers 2 --heads 2 --dim 64 --ctx 32 --batch 8 --threads 4 --quiet --lr 3e-3 --schedule constant --warmup 3 --eval-interval 5 --seed 3"
losses() { sed -E 's/.*"step":([0-9]+),.*"loss":([^,}]*).*/\1 \2/' "$1/metrics.jsonl"; }

"$L" train $S --out "$D/gpu" --steps 20 --device cuda || fail "train --device cuda"
"$L" train $S --out "$D/cpu" --steps 20 --device cpu || fail "train --device cpu"
"$L" train $S --out "$D/split" --steps 10 --device cuda || fail "train first half on cuda"
"$L" train --out "$D/split" --resume --steps 20 --device cuda --quiet || fail "resume on cuda"
"$L" train $S --out "$D/switch" --steps 10 --device cuda || fail "train first half on cuda (switch)"
"$L" train --out "$D/switch" --resume --steps 20 --device cpu --quiet || fail "resume on cpu"

diff <(losses "$D/gpu") <(losses "$D/split") >&2 || fail "resumed losses on the device differ from one go"
cmp "$D/gpu/checkpoints/step_00000020.safetensors" "$D/split/checkpoints/step_00000020.safetensors" ||
  fail "the resumed device run's final checkpoint differs from the one-go run's"
worst=$(paste <(losses "$D/gpu") <(losses "$D/cpu") | awk '{e=($2-$4)/$4; if(e<0)e=-e; if(e>w)w=e} END{printf "%.3g", w}')
echo "cuda vs cpu: worst per-step relative loss gap $worst over 20 steps"
awk -v w="$worst" 'BEGIN{exit !(w <= 1e-4)}' || fail "cuda and cpu losses differ by $worst (> 1e-4)"
first=$(losses "$D/gpu" | head -1 | cut -d' ' -f2); last=$(losses "$D/gpu" | tail -1 | cut -d' ' -f2)
awk -v a="$first" -v b="$last" 'BEGIN{exit !(b < 0.8 * a)}' || fail "the device run did not learn: $first -> $last"
worst=$(paste <(losses "$D/cpu" | tail -10) <(losses "$D/switch" | tail -10) | awk '{e=($2-$4)/$4; if(e<0)e=-e; if(e>w)w=e} END{printf "%.3g", w}')
echo "cuda->cpu resume vs cpu: worst relative loss gap $worst over steps 11-20"
awk -v w="$worst" 'BEGIN{exit !(w <= 1e-4)}' || fail "a run resumed on the cpu drifts from the cpu run by $worst"

g=$("$L" sample --model "$D/gpu" --device cuda --prompt "the cat" --tokens 24 --temperature 0) || fail "sample --device cuda"
c=$("$L" sample --model "$D/gpu" --device cpu --prompt "the cat" --tokens 24 --temperature 0) || fail "sample --device cpu"
echo "cuda sample: $g"
case "$g" in "the cat"?*) ;; *) fail "sample --device cuda printed '$g'" ;; esac
# greedy text can differ where two logits are within rounding of each other (test_cuda_model
# bounds the logits themselves); a difference is reported, not failed
[ "$g" = "$c" ] || echo "NOTE: greedy text differs: cuda '$g' vs cpu '$c'"
"$L" sample --model "$D/gpu" --device cuda --bf16 --prompt "x" 2>&1 | grep -q "CPU only" || fail "--bf16 with cuda not refused"
# eval --domains (score.c on the device) vs the CPU: the same per-domain losses within 1e-4
"$L" eval --model "$D/gpu" --domains --device cuda --out "$D/dom_gpu.jsonl" >/dev/null || fail "eval --device cuda"
"$L" eval --model "$D/gpu" --domains --device cpu --out "$D/dom_cpu.jsonl" >/dev/null || fail "eval --device cpu"
lossof() { sed -E 's/.*"loss": *([^,}]*).*/\1/' "$1"; }
worst=$(paste <(lossof "$D/dom_gpu.jsonl") <(lossof "$D/dom_cpu.jsonl") | awk '{e=($1-$2)/$2; if(e<0)e=-e; if(e>w)w=e} END{printf "%.3g", w}')
echo "eval --domains cuda vs cpu: worst relative loss gap $worst"
[ -s "$D/dom_gpu.jsonl" ] || fail "eval --device cuda wrote no rows"
awk -v w="$worst" 'BEGIN{exit !(w <= 1e-4)}' || fail "eval losses differ by $worst"
echo "cli_device: ok"
