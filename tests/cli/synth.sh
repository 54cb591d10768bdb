#!/usr/bin/env bash
# synth.sh — 'lmscope data synth': the controlled tasks are reproducible by seed, their suites are
# valid (tools/suites/check.py), every held-out item is absent from the training text, the text
# prepares into shards as domains, and bad input fails cleanly.
set -u
L="${LMSCOPE:?set LMSCOPE to the lmscope binary}"
T=$(mktemp -d /tmp/lms_cli_synth_XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
expect() {
  local want=$1 what=$2; shift 2
  "$@" >"$T/out" 2>&1; local rc=$?
  if [ "$rc" -eq "$want" ]; then ok "$what (exit $rc)"; else bad "$what: exit $rc, wanted $want"; sed 's/^/    /' "$T/out" | head -20; fi
}
has() { if grep -qF -- "$1" "$T/out"; then ok "  output has '$1'"; else bad "  output lacks '$1'"; sed 's/^/    /' "$T/out" | head -5; fi; }

small="--add-problems 3000 --copy-lines 800 --chant-lines 400 --items 60"
expect 0 "synth seed 1" "$L" data synth --out "$T/a" $small
expect 0 "synth seed 1 again" "$L" data synth --out "$T/b" $small
expect 0 "synth seed 2" "$L" data synth --out "$T/c" $small --seed 2
expect 0 "synth reversed sums" "$L" data synth --out "$T/r" $small --add-reversed
if diff -r "$T/a" "$T/b" >/dev/null; then ok "same seed, same bytes"; else bad "same seed gave different files"; fi
if diff -q "$T/a/corpus/synth_addition.txt" "$T/c/corpus/synth_addition.txt" >/dev/null; then bad "seed 2 gave the same text"; else ok "another seed, other text"; fi
n=$(ls "$T/a/suites" | wc -l)
[ "$n" -eq 12 ] && ok "12 suites" || bad "$n suites, wanted 12"
if python3 tools/suites/check.py "$T/a/suites" >"$T/out" 2>&1; then ok "suites pass tools/suites/check.py"; else bad "check.py:"; head -20 "$T/out"; fi

# held out: no suite item occurs in the training text; answers are right; chants are in training
if python3 - "$T/a" "$T/r" <<'PY' >"$T/out" 2>&1
import json, os, sys
a, r = sys.argv[1], sys.argv[2]
def lines(p): return [l for l in open(p).read().split("\n") if l and l != "<|endoftext|>"]
def num(s): return int(s.replace(" ", ""))
errs = []
for root, rev in ((a, False), (r, True)):
    train = set()
    for l in lines(f"{root}/corpus/synth_addition.txt"):
        lhs, rhs = l.split(" = ")
        x, y = lhs.split(" + ")
        s = rhs.replace(" ", "")
        if int(s[::-1] if rev else s) != num(x) + num(y): errs.append(f"wrong sum in training: {l}")
        train.add((num(x), num(y)))
    for d in (2, 3, 4, 5):
        for kind, suf in (("gen", ""), ("seq", "-digits")):
            items = [json.loads(l) for l in open(f"{root}/suites/add-{d}d{suf}.jsonl")]
            for it in items:
                x, y = it["context"].rstrip(" =").split(" + ")
                if it["kind"] != kind or len(x.replace(" ", "")) != d or len(y.replace(" ", "")) != d: errs.append(f"bad item {it}")
                t = it["target"].replace(" ", "")
                if int(t[::-1] if rev else t) != num(x) + num(y): errs.append(f"wrong answer {it}")
                if (num(x), num(y)) in train: errs.append(f"held-out pair in training: {it}")
copies = {l.split(" ; again:")[0][len("copy:"):].strip() for l in lines(f"{a}/corpus/synth_copy.txt")}
for l in lines(f"{a}/corpus/synth_copy.txt"):
    first, second = l[len("copy:"):].split(" ; again:")
    if first.strip() != second.strip(): errs.append(f"copy line does not repeat: {l}")
chants = {l[len("chant:"):].strip() for l in lines(f"{a}/corpus/synth_chants.txt")}
if len(chants) != 32: errs.append(f"{len(chants)} chants in training, wanted 32")
fi = [json.loads(l) for l in open(f"{a}/suites/copy-first.jsonl")]
se = [json.loads(l) for l in open(f"{a}/suites/copy-second.jsonl")]
ex = [json.loads(l) for l in open(f"{a}/suites/copy-second-exact.jsonl")]
if [(s["context"], s["target"]) for s in se] != [(x["context"], x["target"]) for x in ex] or any(x["kind"] != "gen" for x in ex):
    errs.append("copy-second-exact is not copy-second as generation")
for f, s in zip(fi, se):
    if f["target"] != s["target"] or s["context"] != "copy:" + f["target"] + " ; again:": errs.append(f"copy pair {f} {s}")
    if f["target"].strip() in copies: errs.append(f"held-out string in training: {f}")
for it in (json.loads(l) for l in open(f"{a}/suites/copy-altered.jsonl")):
    shown = it["context"][len("copy:"):].split(" ; again:")[0].strip()
    right, wrong = it["choices"][it["answer"]].strip(), it["choices"][1 - it["answer"]].strip()
    w = shown.split()
    p = len(it["context"].split(" ; again:")[1].split())
    orig = w[:p] + [wrong] + w[p + 1:]
    if w[p] != right or " ".join(orig) not in chants: errs.append(f"altered chant {it}")
    if shown in chants or shown in copies: errs.append(f"altered chant in training: {it}")
print("\n".join(errs[:20]) or "ok")
sys.exit(1 if errs else 0)
PY
then ok "held-out items absent from training, answers right"; else bad "held-out check:"; head -20 "$T/out"; fi

# the domains prepare into shards beside each other
expect 0 "prepare the synthetic corpus (bytes)" "$L" data prepare --out "$T/shards" "$T/a/corpus"
has "synth_addition"
has "synth_chants"

expect 2 "too few items" "$L" data synth --out "$T/x" --items 5
has "10..500"
expect 2 "no --out" "$L" data synth
expect 2 "negative lines" "$L" data synth --out "$T/x" --add-problems -1
touch "$T/file"
expect 1 "output under a file" "$L" data synth --out "$T/file/sub"
[ ! -e "$T/x" ] && ok "nothing written on bad input" || bad "bad input left $T/x"

echo "synth.sh: $fails failed"
[ "$fails" -eq 0 ]
