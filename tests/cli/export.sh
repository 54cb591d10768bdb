#!/usr/bin/env bash
# export.sh — 'lmscope export' on tiny trained runs (a BPE one and a byte one): the Hugging Face
# directory and the llm.c checkpoint score a text exactly as the run does (same ids, same
# log-probs), any model lms_lm_open reads exports again to the same bytes, and bad input (no model,
# nothing to write, an output that exists, an unwritable path, a token llm.c cannot hold) fails
# with a clear message, the right exit status and nothing written.
set -u
. "$(dirname "$0")/lib.bash"
cli_setup export
tiny_text "$D/text.txt"
"$L" tokenizer train --vocab-size 300 --out "$D/tok" "$D/text.txt" >/dev/null 2>&1 || fail "tokenizer train"
T="--layers 1 --heads 2 --dim 16 --ctx 32 --batch 2 --steps 3 --threads 2 --quiet"
"$L" train --data "$D/text.txt" --tokenizer "$D/tok" --out "$D/bpe" $T || fail "training the BPE run"
"$L" train --data "$D/text.txt" --out "$D/bytes" $T || fail "training the byte run"

# what 'score --json' says per token (id, log-prob), without the paths
scores() {
  "$L" score --json --threads 2 --text "the cat sat on the mat 3. a dog" "$@" |
    python3 -c 'import json,sys; print(json.dumps([(t["id"], t["logp"]) for t in json.load(sys.stdin)["tokens"]]))'
}
for run in bpe bytes; do
  out=$("$L" export --model "$D/$run" --hf "$D/$run-hf" --llmc "$D/$run.bin") || fail "export $run"
  grep -q "wrote $D/$run-hf/" <<<"$out" && grep -q "${run}_tokenizer.bin" <<<"$out" || fail "export $run said: $out"
  for f in model.safetensors config.json generation_config.json vocab.json merges.txt tokenizer_config.json \
           special_tokens_map.json; do [ -s "$D/$run-hf/$f" ] || fail "$run: no $f"; done
  [ -s "$D/${run}_tokenizer.bin" ] || fail "$run: no llm.c tokenizer file"
  want=$(scores --model "$D/$run") || fail "score $run"
  [ "$(scores --model "$D/$run-hf")" = "$want" ] || fail "$run: the Hugging Face export scores differently"
  [ "$(scores --model "$D/$run.bin" --tokenizer "$D/$run-hf")" = "$want" ] || fail "$run: the llm.c export scores differently"
  # the exports are models too: exporting them again gives the same files
  "$L" export --model "$D/$run-hf" --hf "$D/$run-hf2" >/dev/null || fail "re-export of the $run HF dir"
  "$L" export --model "$D/$run.bin" --tokenizer "$D/$run-hf" --hf "$D/$run-hf3" >/dev/null || fail "re-export of $run.bin"
  for f in model.safetensors config.json vocab.json merges.txt tokenizer_config.json; do
    cmp -s "$D/$run-hf/$f" "$D/$run-hf2/$f" && cmp -s "$D/$run-hf/$f" "$D/$run-hf3/$f" || fail "$run: re-export changed $f"
  done
done
# a checkpoint file works as --model; the byte model's tokenizer is GPT-2's byte level with no merges
ck="$D/bytes/checkpoints/$(cat "$D/bytes/latest").safetensors"
"$L" export --model "$ck" --hf "$D/ck-hf" >/dev/null || fail "export from a checkpoint file"
cmp -s "$D/ck-hf/model.safetensors" "$D/bytes-hf/model.safetensors" || fail "checkpoint file and run dir export differently"
[ "$(cat "$D/bytes-hf/merges.txt")" = "#version: 0.2" ] || fail "byte model merges.txt: $(head -3 "$D/bytes-hf/merges.txt")"
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert sorted(v.values())==list(range(256))' \
  "$D/bytes-hf/vocab.json" || fail "byte model vocab.json is not the 256 bytes"
grep -q '"eos_token_id": null' "$D/bytes-hf/config.json" || fail "byte model: eos_token_id should be null"

# bad input
expect 2 "no such file" export --model "$D/nope" --hf "$D/x"
expect 2 "nothing to write" export --model "$D/bpe"
expect 2 "--model" export --hf "$D/x"
expect 2 "--tokenizer" export --model "$D/bpe.bin" --hf "$D/x"
[ ! -e "$D/x" ] || fail "a failed export left $D/x"
cp "$D/bpe-hf/config.json" "$D/config.before"
echo mine > "$D/bpe-hf/notes.txt"
expect 2 "--force" export --model "$D/bytes" --hf "$D/bpe-hf"
cmp -s "$D/bpe-hf/config.json" "$D/config.before" || fail "a refused export changed the existing directory"
expect 2 "--force" export --model "$D/bytes" --llmc "$D/bpe.bin"
expect 2 "--force" export --model "$D/bytes" --hf "$D/new-hf" --llmc "$D/bpe.bin"
[ ! -e "$D/new-hf" ] || fail "--hf was written although --llmc was refused"
"$L" export --model "$D/bytes" --hf "$D/bpe-hf" --force >/dev/null || fail "--force"
[ "$(cat "$D/bpe-hf/notes.txt")" = mine ] || fail "--force removed a file the export does not write"
[ "$(scores --model "$D/bpe-hf")" = "$(scores --model "$D/bytes")" ] || fail "--force did not replace the model"
expect 1 "" export --model "$D/bytes" --hf "$D/text.txt/sub"
expect 1 "" export --model "$D/bytes" --llmc "$D/text.txt/m.bin"
# a 300-byte token: the Hugging Face export holds it, llm.c's tokenizer file cannot
python3 -c 'print("\n".join(["a" * 300] * 50))' > "$D/long.txt"
"$L" tokenizer train --vocab-size 300 --out "$D/longtok" "$D/long.txt" >/dev/null 2>&1 || fail "long tokenizer"
"$L" train --data "$D/text.txt" --tokenizer "$D/longtok" --out "$D/long" $T 2>/dev/null || fail "training the long-token run"
expect 1 "255" export --model "$D/long" --llmc "$D/long.bin"
[ ! -e "$D/long.bin" ] && [ ! -e "$D/long_tokenizer.bin" ] || fail "a refused llm.c export left files"
"$L" export --model "$D/long" --hf "$D/long-hf" >/dev/null || fail "the Hugging Face export of a long token"
[ -z "$(ls "$D" | grep '\.tmp\.')" ] || fail "temporaries left: $(ls "$D" | grep '\.tmp\.')"
echo "export.sh: ok"
