#!/usr/bin/env bash
# inspect.sh — 'lmscope score' and 'lmscope inspect' on tiny runs trained here (a BPE tokenizer with
# <|endoftext|>, two domains): score's totals add up (total, mean loss, bits per byte) and its
# tokens rebuild the text; @file equals the literal text; a text longer than the context says it
# was windowed; inspect's HTML page is valid, self-contained, holds every token with score's
# numbers; --compare works and refuses another tokenizer; real GPT-2 layouts (Hugging Face dir, llm.c
# .bin, GPT-2 tokenizer) give the same per-token numbers; --classes adds up, reads the run of a
# checkpoint inside one and refuses a lone checkpoint without --data; bad input fails
# clearly (missing file, FIFO, empty text, bad flags) and leaves no half-written page.
set -u
L=${LMSCOPE:-./lmscope}
D=$(mktemp -d /tmp/lms_cli_inspect.XXXXXX)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir -p "$D/corp"
for i in $(seq 1 200); do
  echo "The cat sat on the mat number $i. A dog ran in the park, and birds sang."; echo "<|endoftext|>"
done > "$D/corp/stories.txt"
for i in $(seq 1 200); do echo "$((i % 13)) + $((i % 7)) = $((i % 13 + i % 7))"; echo "<|endoftext|>"; done > "$D/corp/arith.txt"
"$L" tokenizer train --vocab-size 400 --out "$D/tok" "$D/corp/"*.txt >/dev/null || fail "tokenizer train"
"$L" data prepare --tokenizer "$D/tok" --out "$D/shards" "$D/corp/" >/dev/null 2>&1 || fail "data prepare"
tr() { "$L" train --data "$D/shards" --out "$D/$1" --layers "$2" --heads 2 --dim 32 --ctx 32 --batch 8 --steps "$3" \
         --lr 1e-2 --threads 2 --quiet || fail "training $1"; }
tr a 1 20
tr b 2 40
head -c 3000 "$D/corp/stories.txt" > "$D/bytes.txt"
"$L" train --data "$D/bytes.txt" --out "$D/bytesrun" --layers 1 --heads 2 --dim 32 --ctx 32 --batch 4 --steps 5 \
    --threads 2 --quiet || fail "training the byte run"

TEXT="The cat sat on the mat number 7. A dog ran in the park."
printf '%s' "$TEXT" > "$D/text.txt"
"$L" score --model "$D/a" --text "$TEXT" --threads 2 > "$D/score.txt" || fail "score exited $?"
grep -q "total log-prob" "$D/score.txt" || fail "no totals in: $(cat "$D/score.txt")"
grep -q "bits/byte" "$D/score.txt" || fail "no bits per byte"
"$L" score --model "$D/a" --text "$TEXT" --json --top 3 --threads 2 > "$D/score.json" || fail "score --json"
"$L" score --model "$D/a" --text "@$D/text.txt" --json --top 3 --threads 2 > "$D/score2.json" || fail "score @file"
cmp -s "$D/score.json" "$D/score2.json" || fail "--text @file differs from the same text given literally"
python3 - "$D/score.json" "$TEXT" <<'EOF' || fail "score --json does not add up"
import json, math, sys
r = json.load(open(sys.argv[1])); text = sys.argv[2]
t = r["tokens"]
assert r["bos"] is True and t[0]["text"] == "<|endoftext|>" and t[0]["scored"] is False, t[0]
assert "".join(x["text"] for x in t[1:]) == text, "tokens do not rebuild the text"
assert all(x["scored"] for x in t[1:]) and r["scored"] == len(t) - 1
total = sum(x["logp"] for x in t[1:])
assert abs(total - r["total_logp"]) < 1e-4, (total, r["total_logp"])
assert abs(r["mean_loss"] + total / r["scored"]) < 1e-6
assert r["scored_bytes"] == len(text.encode())
assert abs(r["bits_per_byte"] + total / math.log(2) / r["scored_bytes"]) < 1e-6
for x in t[1:]:
    assert x["rank"] >= 1 and x["logp"] <= 0 and len(x["top"]) == 3
    assert all(a["logp"] >= b["logp"] for a, b in zip(x["top"], x["top"][1:]))
    if x["rank"] <= 3: assert x["top"][x["rank"] - 1]["id"] == x["id"]
assert r["windowed"] is False
EOF
# longer than the 32-token context: windowed, and the output says so
LONG=$(head -c 1200 "$D/corp/stories.txt")
"$L" score --model "$D/a" --text "$LONG" --threads 2 | grep -q "sliding window" || fail "a long text does not say it was windowed"
"$L" score --model "$D/a" --text "$LONG" --json --threads 2 | python3 -c 'import json,sys; assert json.load(sys.stdin)["windowed"]' \
    || fail "--json lacks windowed: true"

# inspect: terminal views
out=$("$L" inspect --model "$D/a" --text "$TEXT" --threads 2) || fail "inspect exited $?"
grep -q $'\x1b\[' <<<"$out" && fail "colour codes on a pipe without --color always"
grep -q "hardest tokens" <<<"$out" || fail "no hardest tokens: $out"
grep -q '\[ cat|' <<<"$out" || fail "plain markers missing: $out"
"$L" inspect --model "$D/a" --text "$TEXT" --color always --ranks --threads 2 | grep -q $'\x1b\[48;5;' \
    || fail "--color always gives no 256-colour backgrounds"

# inspect --html: valid, self-contained, every token, the same numbers as score
"$L" inspect --model "$D/a" --text "@$D/text.txt" --html "$D/page.html" --threads 2 >/dev/null || fail "inspect --html"
python3 - "$D/page.html" "$D/score.json" "$TEXT" <<'EOF' || fail "the HTML page is not right"
import json, re, sys
from html.parser import HTMLParser
page = open(sys.argv[1], encoding="utf-8").read(); r = json.load(open(sys.argv[2])); text = sys.argv[3]
VOID = {"meta", "br", "hr", "img", "input", "link"}
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.stack = []; s.spans = []; s.cur = None; s.scripts = []; s.ins = False; s.bad = []
    def handle_starttag(s, tag, attrs):
        a = dict(attrs)
        for k, v in attrs:
            if k in ("src", "href") or (v and re.search(r"https?://", v)): s.bad.append((tag, k, v))
        if tag in ("link", "iframe", "img", "object", "embed"): s.bad.append(tag)
        if tag not in VOID: s.stack.append(tag)
        if tag == "span" and "t" in a.get("class", "").split(): s.cur = [int(a["data-i"]), ""]
        if tag == "script": s.ins = True; s.scripts.append("")
    def handle_endtag(s, tag):
        assert s.stack and s.stack[-1] == tag, ("unbalanced", tag, s.stack[-3:])
        s.stack.pop()
        if tag == "span" and s.cur is not None: s.spans.append(s.cur); s.cur = None
        if tag == "script": s.ins = False
    def handle_data(s, d):
        if s.cur is not None: s.cur[1] += d
        if s.ins: s.scripts[-1] += d
p = P(); p.feed(page); p.close()
assert not p.stack, ("unclosed", p.stack)
assert not p.bad, ("external resources", p.bad)
assert not re.search(r"https?://", page), "a URL in the page"
assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
assert "".join(x[1] for x in p.spans) == text, "the spans do not rebuild the text"
toks = r["tokens"]
assert [x[0] for x in p.spans] == list(range(1, len(toks))), "not one span per token"
assert len(p.scripts) == 1
m = re.search(r"var D=(\[.*?\]);\n", p.scripts[0], re.S)
data = json.loads(m.group(1))
assert len(data) == len(toks)
for i in range(1, len(toks)):
    assert data[i][0] == toks[i]["text"], (data[i][0], toks[i]["text"])
    assert abs(data[i][1] - toks[i]["logp"]) < 1e-4 and data[i][2] == toks[i]["rank"], i
    assert len(data[i][3]) == 5, "top-5 alternatives"
EOF

# --compare: a bigger model on the same tokenizer
"$L" inspect --model "$D/a" --compare "$D/b" --text "$TEXT" --html "$D/cmp.html" --threads 2 > "$D/cmp.txt" \
    || fail "inspect --compare exited $?"
grep -q "mean log p(B) - log p(A)" "$D/cmp.txt" || fail "no comparison summary: $(cat "$D/cmp.txt")"
grep -q "where B is better" "$D/cmp.txt" || fail "no top list"
grep -q "Where B is better" "$D/cmp.html" || fail "the comparison page lacks its lists"
err=$("$L" inspect --model "$D/a" --compare "$D/bytesrun" --text "$TEXT" 2>&1 >/dev/null); rc=$?
[ $rc = 2 ] || fail "compare with another tokenizer exited $rc, want 2: $err"
grep -q "different tokenizers" <<<"$err" || fail "unclear mismatch message: $err"

# --classes: the run's own data by default; shares add up; a domain; the JSON form
"$L" inspect --model "$D/a" --classes --threads 2 > "$D/cls.txt" || fail "inspect --classes exited $?"
for w in word-initial digits punctuation top-100 "hardest tokens"; do grep -q -- "$w" "$D/cls.txt" || fail "--classes lacks $w"; done
"$L" inspect --model "$D/a" --compare "$D/b" --classes --data "$D/shards" --domain arith --json --threads 2 > "$D/cls.json" \
    || fail "--classes --domain --json"
python3 - "$D/cls.json" <<'EOF' || fail "--classes --json does not add up"
import json, sys
r = json.load(open(sys.argv[1]))
assert "domain arith" in r["data"]
for key in ("classes", "frequency"):
    rows = r[key]
    assert sum(x["tokens"] for x in rows) == r["tokens"] > 0
    assert abs(sum(x["share"] for x in rows) - 1) < 1e-6
    tot = sum(x["loss"] * x["tokens"] for x in rows if x["tokens"])
    assert abs(tot / r["tokens"] - r["loss"]) < 1e-4
    totb = sum(x["loss_b"] * x["tokens"] for x in rows if x["tokens"])
    assert abs(totb / r["tokens"] - r["loss_b"]) < 1e-4
d = {x["class"]: x["tokens"] for x in r["classes"]}
assert d["digits"] > 0 and d["word-initial"] == 0, d   # arithmetic has no words
EOF
# --classes on a checkpoint inside a run reads the run's data (as eval --domains does) and gives the
# run dir's numbers, since the run's latest checkpoint is that one; a lone checkpoint elsewhere has
# no data without --data: exit 2, the message says what would do
ck=$(ls "$D/a/checkpoints/"step_*.safetensors | sort -V | tail -1)
[ -n "$ck" ] || fail "run a has no checkpoint"
"$L" inspect --model "$ck" --classes --json --threads 2 > "$D/clsck.json" || fail "--classes on $ck exited $?"
"$L" inspect --model "$D/a" --classes --json --threads 2 > "$D/clsrun.json" || fail "--classes --json on the run"
python3 -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); assert a["classes"]==b["classes"], (a["classes"], b["classes"])' \
  "$D/clsck.json" "$D/clsrun.json" || fail "--classes on the run's latest checkpoint differs from the run's"
mkdir -p "$D/lone" && cp "$ck" "$D/lone/model.safetensors" && cp -r "$D/a/tokenizer"* "$D/lone/" 2>/dev/null
err=$("$L" inspect --model "$D/lone/model.safetensors" --classes --threads 2 2>&1 >/dev/null); rc=$?
[ $rc = 2 ] && grep -q -- "--classes needs --data SHARDS_DIR (the model .* is neither a run directory nor a checkpoint in one" <<<"$err" \
  || fail "--classes on a lone checkpoint: exit $rc: $err"
"$L" inspect --model "$D/lone/model.safetensors" --classes --data "$D/shards" --threads 2 >/dev/null \
  || fail "--classes --data on a lone checkpoint"

# real GPT-2 layouts (GPT-2's own tokenizer): a Hugging Face dir and an llm.c .bin holding the same
# weights give the same per-token numbers; --compare across them works, against our run it is refused
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/gpt2_formats.py" "$D/g" "$here/../fixtures/gpt2" >/dev/null || fail "could not write the GPT-2 test model"
G="The capital of France is Paris."
"$L" score --model "$D/g/hf" --text "$G" --json --threads 2 > "$D/g1.json" || fail "score a Hugging Face dir"
"$L" score --model "$D/g/gpt2_tiny.bin" --tokenizer "$here/../fixtures/gpt2" --text "$G" --json --threads 2 > "$D/g2.json" \
    || fail "score an llm.c file"
python3 - "$D/g1.json" "$D/g2.json" "$G" <<'EOF2' || fail "GPT-2 layouts disagree"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["bos"] and a["tokens"][0]["id"] == 50256 and "".join(t["text"] for t in a["tokens"][1:]) == sys.argv[3]
assert [t["id"] for t in a["tokens"]][1:] == [464, 3139, 286, 4881, 318, 6342, 13]
for x, y in zip(a["tokens"][1:], b["tokens"][1:]):
    assert x["id"] == y["id"] and abs(x["logp"] - y["logp"]) < 1e-4 and x["rank"] == y["rank"], (x, y)
EOF2
"$L" inspect --model "$D/g/hf" --compare "$D/g/gpt2_tiny.bin" --tokenizer "$here/../fixtures/gpt2" --text "$G" --threads 2 \
    | grep -q "mean log p(B) - log p(A)" || fail "compare of the two GPT-2 layouts"
err=$("$L" inspect --model "$D/g/hf" --compare "$D/a" --text "$G" 2>&1 >/dev/null); rc=$?
[ $rc = 2 ] && grep -q "different tokenizers" <<<"$err" || fail "GPT-2 vs our run: exit $rc: $err"

expect() {
  local want=$1 pat=$2; shift 2
  local err rc
  err=$(timeout 20 "$L" "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" = "$want" ] || fail "lmscope $* exited $rc, want $want: $err"
  grep -q -- "$pat" <<<"$err" || fail "lmscope $*: message lacks '$pat': $err"
}
mkfifo "$D/fifo"
: > "$D/empty.txt"
expect 2 "No such file" score --model "$D/a" --text "@$D/nope.txt"
expect 2 "FIFO" score --model "$D/a" --text "@$D/fifo"
expect 2 "FIFO" inspect --model "$D/a" --text "@$D/fifo"
expect 2 "empty" score --model "$D/a" --text ""
expect 2 "empty" inspect --model "$D/a" --text "@$D/empty.txt"
expect 2 "directory" score --model "$D/a" --text "@$D"
expect 2 "--text" score --model "$D/a"
expect 2 "--model" inspect --text "hi"
expect 2 "no such file" score --model "$D/nope" --text "hi"
expect 2 "--color" inspect --model "$D/a" --text "hi" --color sometimes
expect 2 "--top" score --model "$D/a" --text "hi" --top 11
expect 2 "--classes" inspect --model "$D/a" --classes --text "hi"
expect 2 "no such domain" inspect --model "$D/a" --classes --domain nope
expect 1 "html" inspect --model "$D/a" --text "$TEXT" --html "$D/no/such/dir/page.html"
[ -e "$D/no/such/dir/page.html" ] && fail "a page was left behind"
ls "$D"/page.html.tmp.* >/dev/null 2>&1 && fail "a temporary page was left behind"
echo "inspect.sh: ok"
