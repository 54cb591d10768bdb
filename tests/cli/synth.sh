#!/usr/bin/env bash
# synth.sh — 'lmscope data synth': the controlled tasks are reproducible by seed, their suites are
# valid (tools/suites/check.py), every held-out item is absent from the training text, the text
# prepares into shards as domains, and bad input fails cleanly.
set -u
. "$(dirname "$0")/lib.bash"
cli_setup synth
T=$D

small="--add-problems 3000 --copy-lines 800 --chant-lines 400 --items 60"
"$L" data synth --out "$T/a" $small >/dev/null || fail "synth seed 1"
"$L" data synth --out "$T/b" $small >/dev/null || fail "synth seed 1 again"
"$L" data synth --out "$T/c" $small --seed 2 >/dev/null || fail "synth seed 2"
"$L" data synth --out "$T/r" $small --add-reversed >/dev/null || fail "synth reversed sums"
diff -r "$T/a" "$T/b" >/dev/null || fail "same seed gave different files"
diff -q "$T/a/corpus/synth_addition.txt" "$T/c/corpus/synth_addition.txt" >/dev/null && fail "seed 2 gave the same text"
n=$(ls "$T/a/suites" | wc -l)
[ "$n" -eq 12 ] || fail "$n suites, wanted 12"
python3 tools/suites/check.py "$T/a/suites" >"$T/out" 2>&1 || fail "tools/suites/check.py: $(head -20 "$T/out")"

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
then :; else fail "held-out check: $(head -20 "$T/out")"; fi

# the domains prepare into shards beside each other
"$L" data prepare --out "$T/shards" "$T/a/corpus" >"$T/out" 2>&1 || fail "prepare the synthetic corpus (bytes): $(tail -5 "$T/out")"
grep -q synth_addition "$T/out" && grep -q synth_chants "$T/out" || fail "prepare did not list the synthetic domains: $(cat "$T/out")"

expect 2 "10..500" data synth --out "$T/x" --items 5
expect 2 "--out" data synth
expect 2 "line counts must be >= 0" data synth --out "$T/x" --add-problems -1
touch "$T/file"
expect 1 "" data synth --out "$T/file/sub"
[ ! -e "$T/x" ] || fail "bad input left $T/x"
echo "synth.sh: ok"
