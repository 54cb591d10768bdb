#!/usr/bin/env bash
# gpt2_formats.sh — `lmscope sample` on the layouts real GPT-2 weights come in: the same small
# random GPT-2 (GPT-2's own 50,257-token vocabulary) written as a Hugging Face directory
# (model.safetensors with "transformer." names, attn.bias buffers and a tied lm_head, config.json,
# vocab.json + merges.txt) and as an llm.c gpt2_*.bin (transposed matrices, padded vocabulary) by
# tests/cli/gpt2_formats.py must load through the CLI and give the same greedy text; an llm.c file
# without --tokenizer is a usage error that says what to pass.
set -u
L=${LMSCOPE:-./lmscope}
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
D=$(mktemp -d /tmp/lms_cli_gpt2.XXXXXX)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
tok="$here/../fixtures/gpt2"

"$PY" "$here/gpt2_formats.py" "$D" "$tok" || fail "could not write the test model"
S="--prompt Hello --tokens 12 --temperature 0 --threads 2"
hf=$("$L" sample --model "$D/hf" $S 2>"$D/e1") || fail "sample from the Hugging Face dir: $(cat "$D/e1")"
hf2=$("$L" sample --model "$D/hf/model.safetensors" $S 2>"$D/e2") || fail "sample from model.safetensors: $(cat "$D/e2")"
llmc=$("$L" sample --model "$D/gpt2_tiny.bin" --tokenizer "$tok" $S 2>"$D/e3") || fail "sample from the llm.c file: $(cat "$D/e3")"
[ "${hf:0:5}" = Hello ] || fail "output does not start with the prompt: $hf"
[ "${#hf}" -gt 5 ] || fail "no text generated: '$hf'"
[ "$hf" = "$hf2" ] || fail "dir and file differ: '$hf' vs '$hf2'"
[ "$hf" = "$llmc" ] || fail "Hugging Face and llm.c layouts of the same weights differ: '$hf' vs '$llmc'"

# the llm.c file has no tokenizer: a usage error naming --tokenizer
"$L" sample --model "$D/gpt2_tiny.bin" $S >/dev/null 2>"$D/e4"; rc=$?
[ $rc = 2 ] && grep -q -- "--tokenizer" "$D/e4" || fail "llm.c without --tokenizer: exit $rc: $(cat "$D/e4")"
# a Hugging Face dir whose config.json disagrees with its tensors is refused with a clear message
sed -i 's/"n_embd": 8/"n_embd": 16/' "$D/hf/config.json"
"$L" sample --model "$D/hf" $S >/dev/null 2>"$D/e5"; rc=$?
[ $rc = 1 ] || [ $rc = 2 ] || fail "mismatched config.json: exit $rc: $(cat "$D/e5")"
grep -q "shape\|n_embd\|config" "$D/e5" || fail "mismatched config.json: unclear message: $(cat "$D/e5")"
exit 0
