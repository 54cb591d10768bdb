#!/usr/bin/env bash
# suites_data.sh — the built-in probe suites in data/suites/ are what tools/suites/build.py makes
# and are well-formed: unpack the committed small corpus into a temporary directory, rebuild every
# suite and the README there, `diff -r` against data/suites/ (a stale or hand-edited suite fails),
# validate every item with tools/suites/check.py, check that the checker rejects broken items,
# and (when the lmscope binary is there) that the validation split the presence column assumes
# is the one `lmscope data prepare` makes. Needs python3 only (standard library).
set -u
T=$(mktemp -d /tmp/lms_cli_suites_XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
export PYTHONDONTWRITEBYTECODE=1
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# 1. regenerate into a temporary directory from the committed archive, and compare
if "$PY" tools/corpus/pack.py unpack data/corpus-small.tar.xz "$T/corpus" >"$T/out" 2>&1; then
  ok "unpacked the small corpus"
else bad "unpack the small corpus"; sed 's/^/    /' "$T/out"; exit 1; fi
if "$PY" tools/suites/build.py --corpus "$T/corpus" --out "$T/suites" >"$T/out" 2>&1; then
  ok "build.py ran ($(grep -c '^' "$T/out") lines of output)"
else bad "build.py failed"; sed 's/^/    /' "$T/out" | tail -20; exit 1; fi
if diff -r data/suites "$T/suites" >"$T/diff" 2>&1; then
  ok "data/suites/ is byte-identical to a fresh build"
else
  bad "data/suites/ differs from a fresh build: run 'make corpus && python3 tools/suites/build.py' and commit"
  head -30 "$T/diff" | sed 's/^/    /'
fi

# 2. every item against the format
n=$(ls data/suites/*.jsonl data/suites/*.csv 2>/dev/null | wc -l)
[ "$n" -ge 15 ] && ok "$n suite files (>= 15)" || bad "only $n suite files"
if "$PY" tools/suites/check.py data/suites >"$T/out" 2>&1; then ok "$(tail -1 "$T/out")"
else bad "check.py found problems"; head -20 "$T/out" | sed 's/^/    /'; fi
for f in data/suites/*.jsonl data/suites/*.csv; do
  grep -qF "\`$(basename "$f")\`" data/suites/README.md || bad "README.md does not list $(basename "$f")"
done

# 3. the checker itself rejects bad items (each case must fail, naming file and line)
mkdir -p "$T/bad"
cp data/suites/capitals.jsonl "$T/bad/base.jsonl"
reject() {  # reject NAME SED-EXPRESSION: apply to line 3, expect check.py to fail naming line 3
  sed "3$2" "$T/bad/base.jsonl" > "$T/bad/$1.jsonl"
  if "$PY" tools/suites/check.py "$T/bad/$1.jsonl" >"$T/out" 2>&1; then bad "check.py accepted $1"
  elif grep -q "$1.jsonl:3:" "$T/out"; then ok "check.py rejects $1"
  else bad "check.py rejected $1 without naming line 3"; sed 's/^/    /' "$T/out" | head -5; fi
}
reject answer-out-of-range 's/"answer": [0-9]/"answer": 7/'
reject answer-negative     's/"answer": [0-9]/"answer": -1/'
reject empty-choice        's/"choices": \["[^"]*"/"choices": [""/'
reject one-choice          's/"choices": \[[^]]*\]/"choices": [" Paris"]/'
reject same-choices        's/"choices": \[[^]]*\]/"choices": [" Paris", " Paris"]/'
reject no-context          's/"context": "[^"]*", //'
reject not-json            's/}$//'
reject unknown-kind        's/"answer"/"kind": "cloze", "answer"/'
reject no-leading-space    's/"choices": \["[^"]*"/"choices": ["Paris"/'
head -30 data/suites/capitals.jsonl > "$T/bad/short.jsonl"
"$PY" tools/suites/check.py "$T/bad/short.jsonl" >/dev/null 2>&1 && bad "check.py accepted 30 items" || ok "check.py rejects a suite under 50 items"
"$PY" tools/suites/check.py "$T/bad/base.jsonl" >/dev/null 2>&1 && ok "check.py accepts the unmodified file" || bad "check.py rejected good items"
sed '1,10s/"answer": [0-9]/"answer": 0/' "$T/bad/base.jsonl" > "$T/bad/unbalanced.jsonl"
"$PY" tools/suites/check.py "$T/bad/unbalanced.jsonl" >"$T/out" 2>&1
grep -q "unbalanced.jsonl: right answers unevenly placed" "$T/out" && ok "check.py rejects unbalanced answer positions" || bad "check.py missed unbalanced positions"

# 4. presence.py's validation split is the one `lmscope data prepare` makes (same documents per
#    domain: counts and bytes), so "absent" means "not in the default training split"
L="${LMSCOPE:-}"
if [ -n "$L" ] && [ -x "$L" ]; then
  if "$L" data prepare --out "$T/shards" "$T/corpus" >"$T/out" 2>&1; then
    if "$PY" - "$T/corpus" "$T/shards/manifest.json" >"$T/out" 2>&1 <<'EOF'
import json, sys
sys.path.insert(0, "tools/suites")
import common
doms = common.corpus_domains(sys.argv[1])
m = {d["name"]: d["val"] for d in json.load(open(sys.argv[2]))["domains"]}
bad = 0
for name, docs in doms.items():
    v = common.val_split(docs)
    mine = (len(v), sum(len(docs[i]) for i in v))
    theirs = (m[name]["docs"], m[name]["bytes"])
    if mine != theirs:
        print("%s: python %s, lmscope %s" % (name, mine, theirs)); bad += 1
print("%d domains compared" % len(doms))
sys.exit(1 if bad or set(doms) != set(m) else 0)
EOF
    then ok "validation split matches 'lmscope data prepare' ($(tail -1 "$T/out"))"
    else bad "validation split differs from 'lmscope data prepare'"; sed 's/^/    /' "$T/out"; fi
  else bad "lmscope data prepare failed"; tail -5 "$T/out" | sed 's/^/    /'; fi
else
  echo "skip validation-split cross-check: no lmscope binary (set LMSCOPE)"
fi

[ "$fails" -eq 0 ] && echo "suites_data: all ok" || echo "suites_data: $fails failed"
[ "$fails" -eq 0 ]
