#!/usr/bin/env bash
# eval.sh — 'lmscope eval' end to end on a tiny run trained here: the JSON Lines rows carry the
# documented fields and counts, --show prints each choice's probability and the pick, several
# models, --over-training (every checkpoint in step order), --append, --out -, --domains, suite
# paths, and bad input (unknown suites, bad lines with file:line, a FIFO, a mismatched tokenizer,
# flag misuse) with the right exit codes and no half-written --out file.
set -u
L=${LMSCOPE:-./lmscope}
F=tests/fixtures/suites
D=$(mktemp -d /tmp/lms_cli_eval.XXXXXX)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
for i in $(seq 1 300); do echo "the cat sat on the mat. a dog ran in the park $((i % 9)). birds sing."; done > "$D/text.txt"
"$L" train --data "$D/text.txt" --out "$D/run" --layers 1 --heads 2 --dim 32 --ctx 32 --batch 8 --steps 20 \
    --lr 1e-2 --threads 1 --ckpt-interval 5 --keep 10 --quiet || fail "training the tiny run"
E() { "$L" eval --threads 1 --suite-dir "$F" "$@"; }

# every suite: one row each with the documented fields
E --model "$D/run" --out "$D/r.jsonl" > "$D/table.txt" || fail "eval exited $?"
grep -q "acc ± se" "$D/table.txt" || fail "no table header: $(cat "$D/table.txt")"
grep -q "^animals " "$D/table.txt" || fail "no animals row in the table"
grep -q "cut on the left" "$D/table.txt" || fail "the truncated items are not reported"
python3 - "$D/r.jsonl" <<'EOF' || fail "rows"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {r["suite"]: r for r in rows}
assert sorted(by) == ["animals", "complete", "copy", "repeat"], sorted(by)
need = ["model", "checkpoint", "step", "tokens", "flops", "params", "params_nonembed", "suite", "kind", "n", "chance",
        "acc", "acc_se", "acc_norm", "acc_norm_se", "logp", "logp_se", "prob", "prob_se", "edit", "edit_se", "time_s"]
for r in rows:
    missing = [k for k in need if k not in r]
    assert not missing, (r["suite"], missing)
    assert r["step"] == 20 and r["tokens"] > 0 and r["flops"] > 0 and r["params"] > r["params_nonembed"] > 0
    assert r["checkpoint"].endswith("step_00000020.safetensors")
a, g, s, q = by["animals"], by["complete"], by["copy"], by["repeat"]
assert (a["kind"], a["n"], g["kind"], g["n"], s["kind"], s["n"], q["kind"], q["n"]) == ("mc", 6, "gen", 3, "seq", 2, "mc", 2)
assert abs(a["chance"] - (3 / 3 + 3 / 2) / 6) < 1e-9 and q["chance"] == 0.5 and g["chance"] == 0
for r in (a, q):
    assert 0 <= r["acc"] <= 1 and 0 <= r["acc_norm"] <= 1 and 0 < r["prob"] < 1 and r["logp"] < 0
    pt = (r["acc"] * r["n"] + 2) / (r["n"] + 4)  # the plus-four rule (evaluate.h)
    assert abs(r["acc_se"] - (pt * (1 - pt) / (r["n"] + 4)) ** 0.5) < 1e-9
    assert r["edit"] is None
assert g["edit"] >= 0 and g["prob"] is None and g["acc_norm"] is None
assert s["logp"] < 0 and 0 <= s["acc"] <= 1 and s["truncated"] == 2 and s["tokens_scored"] == 47  # 24 + 23: the space ending each context moves onto the target
EOF

# --show: items with each choice's probability, the answer and the pick
E --model "$D/run" --suites animals,complete,copy --show 2 > "$D/show.txt" || fail "--show exited $?"
grep -q '<- answer' "$D/show.txt" || fail "--show lacks the answer mark: $(cat "$D/show.txt")"
grep -q 'picked: ' "$D/show.txt" || fail "--show lacks the pick"
grep -q 'animals.jsonl:2' "$D/show.txt" || fail "--show lacks file:line"
grep -q 'meta {"template":"cat"}' "$D/show.txt" || fail "--show lacks the item's meta"
grep -q 'target " mat"  output "' "$D/show.txt" || fail "--show lacks the generated output"
grep -q 'top-1 [0-9]*/24' "$D/show.txt" || fail "--show lacks the seq item's top-1 count"
[ "$(grep -c '<- answer' "$D/show.txt")" = 2 ] || fail "--show 2 showed another number of mc items"

# a suite by path (no suite dir needed), two models, --out - and --append
"$L" eval --threads 1 --model "$D/run" --model "$D/run/checkpoints/step_00000010.safetensors" --suites "$F/repeat.csv" \
    --out - > "$D/two.jsonl" 2> "$D/two.err" || fail "two models exited $?"
python3 -c "
import json,sys
r=[json.loads(l) for l in open('$D/two.jsonl')]
assert [x['step'] for x in r]==[20,10] and all(x['suite']=='repeat' for x in r), r" || fail "two models: $(cat "$D/two.jsonl")"
grep -q "^repeat " "$D/two.err" || fail "--out -: the table should go to stderr"
cp "$D/two.jsonl" "$D/app.jsonl"
E --model "$D/run" --suites animals --out "$D/app.jsonl" --append > /dev/null || fail "--append exited $?"
[ "$(wc -l < "$D/app.jsonl")" = 3 ] || fail "--append: $(wc -l < "$D/app.jsonl") lines, want 3"
E --model "$D/run" --suites animals --out "$D/app.jsonl" > /dev/null || fail "--out exited $?"
[ "$(wc -l < "$D/app.jsonl")" = 1 ] || fail "--out without --append should replace the file"

# over training: every checkpoint, in step order
E --run "$D/run" --over-training --suites animals --out "$D/ot.jsonl" > /dev/null || fail "--over-training exited $?"
python3 -c "
import json
r=[json.loads(l) for l in open('$D/ot.jsonl')]
assert [x['step'] for x in r]==[5,10,15,20], [x['step'] for x in r]" || fail "--over-training rows"

# per-domain loss from the run's own data, and the loss adds up
E --model "$D/run" --domains --out "$D/dom.jsonl" > "$D/dom.txt" || fail "--domains exited $?"
python3 -c "
import json
r={x['suite']:x for x in map(json.loads, open('$D/dom.jsonl'))}
assert set(r)=={'domain:data','domain:all'}, r
d=r['domain:data']
assert d['kind']=='domain' and d['tokens_scored']>0 and 0<d['loss']<6 and abs(d['bpb']-d['loss']/0.6931471805599453)<1e-6, d
assert abs(r['domain:all']['loss']-d['loss'])<1e-12" || fail "--domains rows: $(cat "$D/dom.jsonl")"

# memory stays bounded by the scoring window, not the suite: 10^4 items peak like 10^2
# (not under AddressSanitizer, whose quarantine keeps freed memory resident)
if [ -x /usr/bin/time ] && ! ldd "$L" 2>/dev/null | grep -q libasan; then
  for n in 100 10000; do
    for i in $(seq 1 $n); do echo "{\"context\": \"the cat sat on item $i\", \"choices\": [\" mat\", \" park\"], \"answer\": $((i % 2))}"; done > "$D/n$n.jsonl"
    /usr/bin/time -f "%M" -o "$D/rss$n" "$L" eval --threads 1 --model "$D/run" --suites "$D/n$n.jsonl" > /dev/null || fail "eval of $n items"
  done
  [ $(( $(cat "$D/rss10000") - $(cat "$D/rss100") )) -lt 4096 ] || fail "peak RSS $(cat "$D/rss100") kB for 100 items, $(cat "$D/rss10000") kB for 10^4"
fi

# a Hugging Face GPT-2 directory and the same weights as an llm.c .bin (GPT-2's tokenizer) score
# alike; provenance is unknown there (null)
python3 tests/cli/gpt2_formats.py "$D/g" tests/fixtures/gpt2 || fail "could not write the GPT-2 test model"
E --model "$D/g/hf" --suites animals,complete --out "$D/hf.jsonl" > /dev/null || fail "eval of a Hugging Face dir exited $?"
E --model "$D/g/gpt2_tiny.bin" --tokenizer tests/fixtures/gpt2 --suites animals,complete --out "$D/llmc.jsonl" > /dev/null ||
    fail "eval of an llm.c .bin exited $?"
python3 -c "
import json
a=[json.loads(l) for l in open('$D/hf.jsonl')]; b=[json.loads(l) for l in open('$D/llmc.jsonl')]
assert len(a)==len(b)==2
for x,y in zip(a,b):
    assert x['step'] is None and x['tokens'] is None and x['flops'] is None and x['params']>0, x
    assert x['acc']==y['acc'] and abs(x['logp']-y['logp'])<1e-3, (x, y)" || fail "Hugging Face vs llm.c rows differ"

# bad input
expect() {
  local want=$1 pat=$2; shift 2
  local err rc
  err=$(timeout 20 "$L" "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" = "$want" ] || fail "lmscope $* exited $rc, want $want: $err"
  grep -q -- "$pat" <<<"$err" || fail "lmscope $*: message lacks '$pat': $err"
}
printf '{"context": "a", "choices": [" b", " c"], "answer": 0}\n{"context": "a", "choices": [" b", " c"], "answer": 2}\n' > "$D/range.jsonl"
printf '{"context": "a", "choices": [" b", " c"], "answer": 0}\n\n{"context": "a", "choices": [" b", " c"]\n' > "$D/badjson.jsonl"
printf 'prompt,classes,answer_index\n"open,x,0\n' > "$D/quote.csv"
mkfifo "$D/fifo.jsonl"
expect 2 "no suite 'nope'" eval --suite-dir "$F" --model "$D/run" --suites animals,nope
expect 2 "known: animals" eval --suite-dir "$F" --model "$D/run" --suites nope
expect 1 "range.jsonl:2: the answer index 2 is out of range" eval --model "$D/run" --suites "$D/range.jsonl"
expect 1 "badjson.jsonl:3: .*bad JSON" eval --model "$D/run" --suites "$D/badjson.jsonl"
expect 1 "quote.csv:2: a quoted field is never closed" eval --model "$D/run" --suites "$D/quote.csv"
expect 1 "not a regular file" eval --model "$D/run" --suites "$D/fifo.jsonl"
expect 2 "no such file" eval --model "$D/nope" --suites "$F/repeat.csv"
expect 2 "not a regular file" eval --model "$D/fifo.jsonl" --suites "$F/repeat.csv"
expect 2 "not a regular file" eval --model "$D/run" --domains --data "$D/fifo.jsonl"
expect 2 "not the one this model was trained with\|tokenizer" eval --model "$D/run" --tokenizer tests/fixtures/gpt2 --suites "$F/repeat.csv"
expect 2 "--over-training needs --run" eval --model "$D/run/checkpoints/step_00000005.safetensors" --over-training
expect 2 "--append needs --out" eval --model "$D/run" --append
expect 2 "--show" eval --model "$D/run" --show -1
expect 2 "--data is for --domains" eval --model "$D/run" --data "$D"
expect 1 "--data" eval --model "$D/run" --domains --data "$D/nothing"
expect 2 "no checkpoints directory" eval --run "$D" --over-training
# a failure leaves no --out file (and no temporary)
expect 1 "range.jsonl:2" eval --model "$D/run" --suites "$F/animals.jsonl,$D/range.jsonl" --out "$D/never.jsonl"
[ ! -e "$D/never.jsonl" ] || fail "a failed eval left --out behind"
ls "$D" | grep -q "never.jsonl.tmp" && fail "a failed eval left a temporary file"
echo "eval.sh: ok"
