#!/usr/bin/env bash
# eval.sh — 'lmscope eval' end to end on a tiny run trained here: the JSON Lines rows carry the
# documented fields and counts, --show prints each choice's probability and the pick, several
# models, --over-training (every checkpoint in step order), --append, --out -, --domains, suite
# paths, --log-samples (one valid JSON line per item whose flags average to the rows' accuracies,
# per checkpoint and per model, none left by a failed suite), and bad input (unknown suites, bad lines with file:line, a FIFO, a mismatched tokenizer,
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
        "acc", "acc_se", "acc_norm", "acc_norm_se", "acc_bytes", "acc_bytes_se", "logp", "logp_se", "prob", "prob_se", "edit", "edit_se", "time_s"]
for r in rows:
    missing = [k for k in need if k not in r]
    assert not missing, (r["suite"], missing)
    assert r["step"] == 20 and r["tokens"] > 0 and r["flops"] > 0 and r["params"] > r["params_nonembed"] > 0
    assert r["checkpoint"].endswith("step_00000020.safetensors")
a, g, s, q = by["animals"], by["complete"], by["copy"], by["repeat"]
assert (a["kind"], a["n"], g["kind"], g["n"], s["kind"], s["n"], q["kind"], q["n"]) == ("mc", 6, "gen", 3, "seq", 2, "mc", 2)
assert abs(a["chance"] - (3 / 3 + 3 / 2) / 6) < 1e-9 and q["chance"] == 0.5 and g["chance"] == 0
for r in (a, q):
    assert 0 <= r["acc"] <= 1 and 0 <= r["acc_norm"] <= 1 and 0 <= r["acc_bytes"] <= 1 and 0 < r["prob"] < 1 and r["logp"] < 0
    pt = (r["acc"] * r["n"] + 2) / (r["n"] + 4)  # the plus-four rule (evaluate.h)
    assert abs(r["acc_se"] - (pt * (1 - pt) / (r["n"] + 4)) ** 0.5) < 1e-9
    assert r["edit"] is None
assert g["edit"] >= 0 and g["prob"] is None and g["acc_norm"] is None and g["acc_bytes"] is None
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

# --log-samples: one file per suite, one valid line per item in file order, with the documented
# fields; the flags average to the row's accuracies (a non-ASCII suite too: characters vs bytes)
printf '{"context": "the word", "choices": [" \xc3\xa9t\xc3\xa9", " mat", " \xe6\x97\xa5\xe6\x9c\xac"], "answer": 0}\n{"context": "a", "choices": [" \xc3\xbcber", " park"], "answer": 1}\n' > "$D/wide.jsonl"
E --model "$D/run" --suites animals,complete,copy,repeat,"$D/wide.jsonl" --out "$D/ls.jsonl" --log-samples "$D/logs" > "$D/ls.txt" ||
    fail "--log-samples exited $?"
grep -q "wrote per-item logs under $D/logs" "$D/ls.txt" || fail "--log-samples: no note of where the logs went"
ls "$D/logs" | grep -q tmp && fail "--log-samples left a temporary file"
python3 - "$D/ls.jsonl" "$D/logs" <<'EOF' || fail "--log-samples files"
import json, os, sys
rows = {r["suite"]: r for r in map(json.loads, open(sys.argv[1]))}
assert sorted(os.listdir(sys.argv[2])) == sorted(f"samples_{s}.jsonl" for s in rows), os.listdir(sys.argv[2])
common = ["suite", "index", "line", "kind", "model", "step", "context", "meta", "truncated", "windowed"]
need = {"mc": ["choices", "choice_chars", "choice_bytes", "logp", "tokens", "greedy", "answer", "pred", "pred_norm",
               "pred_bytes", "correct", "correct_norm", "correct_bytes", "prob"],
        "gen": ["target", "output", "exact_match", "edit", "correct", "target_logp", "target_tokens", "target_greedy", "top1"],
        "seq": ["target", "correct", "target_logp", "target_tokens", "target_greedy", "top1", "mean_logp", "token_logp", "token_rank"]}
mean = lambda v: sum(v) / len(v)
argmax = lambda v: max(range(len(v)), key=lambda i: (v[i], -i))  # the first maximum
for name, row in rows.items():
    lines = [json.loads(l) for l in open(os.path.join(sys.argv[2], f"samples_{name}.jsonl"))]
    assert len(lines) == row["n"], (name, len(lines), row["n"])
    assert [x["index"] for x in lines] == list(range(row["n"])) and all(x["suite"] == name and x["step"] == 20 for x in lines)
    for x in lines:
        missing = [k for k in common + need[x["kind"]] if k not in x]
        assert not missing and x["kind"] == row["kind"], (name, missing)
    if row["kind"] == "mc":
        assert abs(mean([x["correct"] for x in lines]) - row["acc"]) < 1e-12, name
        assert abs(mean([x["correct_norm"] for x in lines]) - row["acc_norm"]) < 1e-12, name
        assert abs(mean([x["correct_bytes"] for x in lines]) - row["acc_bytes"]) < 1e-12, name
        assert abs(mean([x["logp"][x["answer"]] for x in lines]) - row["logp"]) < 1e-9, name
        for x in lines:
            assert x["choice_chars"] == [len(c) for c in x["choices"]], x
            assert x["choice_bytes"] == [len(c.encode()) for c in x["choices"]], x
            assert x["pred"] == argmax(x["logp"]), x
            assert x["pred_norm"] == argmax([l / n for l, n in zip(x["logp"], x["choice_chars"])]), x
            assert x["pred_bytes"] == argmax([l / n for l, n in zip(x["logp"], x["choice_bytes"])]), x
            assert x["correct"] == (x["pred"] == x["answer"]) and len(x["tokens"]) == len(x["greedy"]) == len(x["choices"])
    elif row["kind"] == "gen":
        assert abs(mean([x["exact_match"] for x in lines]) - row["acc"]) < 1e-12
        assert abs(mean([x["edit"] for x in lines]) - row["edit"]) < 1e-12
        assert all(x["exact_match"] == (x["output"].strip() == x["target"].strip()) for x in lines)
    else:
        assert abs(sum(x["top1"] for x in lines) / sum(x["target_tokens"] for x in lines) - row["acc"]) < 1e-12
        assert abs(sum(x["target_logp"] for x in lines) / sum(x["target_tokens"] for x in lines) - row["logp"]) < 1e-9
        for x in lines:
            assert len(x["token_logp"]) == len(x["token_rank"]) == x["target_tokens"], x
            assert sum(r == 1 for r in x["token_rank"]) == x["top1"] and abs(sum(x["token_logp"]) - x["target_logp"]) < 1e-6
w = [json.loads(l) for l in open(os.path.join(sys.argv[2], "samples_wide.jsonl"))]
assert w[0]["choices"] == [" \u00e9t\u00e9", " mat", " \u65e5\u672c"], w[0]
assert w[0]["choice_chars"] == [4, 4, 3] and w[0]["choice_bytes"] == [6, 4, 7], w[0]
assert json.loads(open(os.path.join(sys.argv[2], "samples_animals.jsonl")).readline())["meta"] == {"template": "cat"}
EOF
# per checkpoint (--over-training) and per model
E --run "$D/run" --over-training --suites animals --log-samples "$D/ot" > /dev/null || fail "--over-training --log-samples exited $?"
[ "$(ls "$D/ot" | tr '\n' ' ')" = "step_00000005 step_00000010 step_00000015 step_00000020 " ] || fail "--over-training logs: $(ls "$D/ot")"
python3 -c "
import json
for s in (5, 10, 15, 20):
    x = [json.loads(l) for l in open('$D/ot/step_%08d/samples_animals.jsonl' % s)]
    assert len(x) == 6 and all(y['step'] == s for y in x), s" || fail "--over-training logs carry their step"
E --model "$D/run" --model "$D/run/checkpoints/step_00000010.safetensors" --suites repeat --log-samples "$D/two" > /dev/null ||
    fail "two models --log-samples exited $?"
[ -s "$D/two/model_1/samples_repeat.jsonl" ] && [ -s "$D/two/model_2/samples_repeat.jsonl" ] || fail "two models: $(ls -R "$D/two")"

# per-domain loss from the run's own data, and the loss adds up
E --model "$D/run" --domains --out "$D/dom.jsonl" > "$D/dom.txt" || fail "--domains exited $?"
python3 -c "
import json
r={x['suite']:x for x in map(json.loads, open('$D/dom.jsonl'))}
assert set(r)=={'domain:data','domain:all'}, r
d=r['domain:data']
assert d['kind']=='domain' and d['tokens_scored']>0 and 0<d['loss']<6 and abs(d['bpb']-d['loss']/0.6931471805599453)<1e-6, d
assert abs(r['domain:all']['loss']-d['loss'])<1e-12" || fail "--domains rows: $(cat "$D/dom.jsonl")"

# memory stays bounded by the scoring window, not the suite: 10^4 items peak like 10^2 (with
# --log-samples too: lines are written as items finish)
# (not under AddressSanitizer, whose quarantine keeps freed memory resident)
if [ -x /usr/bin/time ] && ! ldd "$L" 2>/dev/null | grep -q libasan; then
  for n in 100 10000; do
    for i in $(seq 1 $n); do echo "{\"context\": \"the cat sat on item $i\", \"choices\": [\" mat\", \" park\"], \"answer\": $((i % 2))}"; done > "$D/n$n.jsonl"
    /usr/bin/time -f "%M" -o "$D/rss$n" "$L" eval --threads 1 --model "$D/run" --suites "$D/n$n.jsonl" > /dev/null || fail "eval of $n items"
    /usr/bin/time -f "%M" -o "$D/lrss$n" "$L" eval --threads 1 --model "$D/run" --suites "$D/n$n.jsonl" --log-samples "$D/big" > /dev/null ||
        fail "eval of $n items with --log-samples"
  done
  [ $(( $(cat "$D/rss10000") - $(cat "$D/rss100") )) -lt 4096 ] || fail "peak RSS $(cat "$D/rss100") kB for 100 items, $(cat "$D/rss10000") kB for 10^4"
  [ $(( $(cat "$D/lrss10000") - $(cat "$D/lrss100") )) -lt 4096 ] ||
      fail "--log-samples: peak RSS $(cat "$D/lrss100") kB for 100 items, $(cat "$D/lrss10000") kB for 10^4"
  [ "$(wc -l < "$D/big/samples_n10000.jsonl")" = 10000 ] || fail "--log-samples of 10^4 items"
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
# --log-samples: suites of one name would share a file; a failed suite leaves no log (the ones before it stay)
cp "$F/animals.jsonl" "$D/animals.jsonl"
expect 2 "both named 'animals'" eval --model "$D/run" --suites "$F/animals.jsonl,$D/animals.jsonl" --log-samples "$D/dup"
expect 2 "give --suites" eval --model "$D/run" --domains --log-samples "$D/dom"
expect 1 "range.jsonl:2" eval --model "$D/run" --suites "$F/animals.jsonl,$D/range.jsonl" --log-samples "$D/bad"
[ -s "$D/bad/samples_animals.jsonl" ] || fail "the suite scored before the failure should keep its log"
[ "$(ls "$D/bad")" = "samples_animals.jsonl" ] || fail "a failed suite left a log or a temporary: $(ls "$D/bad")"
# a failure leaves no --out file (and no temporary)
expect 1 "range.jsonl:2" eval --model "$D/run" --suites "$F/animals.jsonl,$D/range.jsonl" --out "$D/never.jsonl"
[ ! -e "$D/never.jsonl" ] || fail "a failed eval left --out behind"
ls "$D" | grep -q "never.jsonl.tmp" && fail "a failed eval left a temporary file"
echo "eval.sh: ok"
