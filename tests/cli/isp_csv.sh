#!/usr/bin/env bash
# isp_csv.sh — the Inverse Scaling Prize CSV format end to end on a real file: the committed
# data/suites/quote-repetition.csv (150 rows, the ISP columns prompt, classes, answer_index plus an
# extra `source`) is scored by `lmscope eval` and every item, as the evaluator read it
# (--log-samples), is compared with Python's own reading of the file (csv module, ast.literal_eval of
# `classes`): the same number of items, prompts, choices and answers, in order.
set -u
. "$(dirname "$0")/lib.bash"
cli_setup isp
CSV=data/suites/quote-repetition.csv
[ -f "$CSV" ] || fail "$CSV is missing"
for i in $(seq 1 200); do echo "Repeat after me: the cat sat on the mat. the cat sat on the mat."; done > "$D/text.txt"
"$L" train --data "$D/text.txt" --out "$D/run" --layers 1 --heads 2 --dim 32 --ctx 128 --batch 4 --steps 5 \
    --threads 1 --quiet || fail "training the tiny run"
"$L" eval --threads 1 --model "$D/run" --suites "$CSV" --out "$D/r.jsonl" --log-samples "$D/logs" >"$D/out" 2>&1 ||
  fail "eval of $CSV exited $?: $(tail -5 "$D/out")"
python3 - "$CSV" "$D/r.jsonl" "$D/logs/samples_quote-repetition.jsonl" <<'PY' || fail "items differ from the file"
import ast, csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
res = [json.loads(l) for l in open(sys.argv[2])]
items = [json.loads(l) for l in open(sys.argv[3])]
errs = []
if len(rows) != 150: errs.append(f"{len(rows)} rows in the file, expected 150")
if len(res) != 1 or res[0]["n"] != len(rows) or abs(res[0]["chance"] - 0.5) > 1e-12 or res[0]["kind"] != "mc":
    errs.append(f"result row {res}")
if len(items) != len(rows): errs.append(f"{len(items)} logged items for {len(rows)} rows")
for k, (r, it) in enumerate(zip(rows, items)):
    classes = ast.literal_eval(r["classes"])
    if it["context"] != r["prompt"] or it["choices"] != classes or it["answer"] != int(r["answer_index"]) or it["index"] != k:
        errs.append(f"row {k}: file {r['prompt'][-40:]!r} {classes} {r['answer_index']}, read {it['context'][-40:]!r} {it['choices']} {it['answer']}")
acc = sum(it["correct"] for it in items) / len(items)
if abs(acc - res[0]["acc"]) > 1e-12: errs.append(f"acc {res[0]['acc']} but the items average {acc}")
print("\n".join(errs[:10]))
sys.exit(1 if errs else 0)
PY
echo "isp_csv: ok"
