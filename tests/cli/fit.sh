#!/usr/bin/env bash
# fit.sh — 'lmscope fit' on synthetic runs from a known law (E 1.7, A 400, alpha 0.34, B 410,
# beta 0.28; 6 sizes x 5 token counts, 1% multiplicative noise, seeded): both laws printed with
# intervals, the true exponents inside the L(N, D) intervals (--json), the held-out run predicted
# within 2%, --bootstrap 0 / --seed / --k / stdin behave, the edge warning fires on a grid of too-small
# models, and bad input fails with file:line and the right exit code.
set -u
L=${LMSCOPE:-./lmscope}
D=$(mktemp -d /tmp/lms_cli_fit.XXXXXX)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

gen() { # n_lo n_hi d_lo d_hi noise seed > file
  python3 - "$@" <<'EOF'
import json, math, random, sys
n_lo, n_hi, d_lo, d_hi, noise, seed = map(float, sys.argv[1:7])
random.seed(int(seed))
for i in range(6):
    for j in range(5):
        N = n_lo * (n_hi / n_lo) ** (i / 5); D = d_lo * (d_hi / d_lo) ** (j / 4)
        L = (1.7 + 400 / N ** 0.34 + 410 / D ** 0.28) * math.exp(noise * random.gauss(0, 1))
        print(json.dumps({"name": f"n{i}d{j}", "params_nonembed": N, "tokens": D, "flops": 6 * N * D, "loss": L,
                          "extra": "ignored"}))
EOF
}
gen 1e6 1e8 3e7 1e9 0.01 1 > "$D/runs.jsonl" || fail "python3 could not write the runs"

out=$("$L" fit "$D/runs.jsonl" --bootstrap 200 2>"$D/err") || fail "fit exited $?: $(cat "$D/err")"
grep -q "^30 runs from" <<<"$out" || fail "no run summary: $out"
grep -q "^L(C) = E + A\*C^-alpha over the compute frontier" <<<"$out" || fail "no L(C) section: $out"
grep -q "^L(N, D) = E + A/N^alpha + B/D^beta, Huber" <<<"$out" || fail "no L(N, D) section: $out"
grep -Eq "^  alpha  = 0\.[0-9]+ +\[0\.[0-9]+, 0\.[0-9]+\]" <<<"$out" || fail "no alpha with an interval: $out"
grep -q "(largest)  N\* = " <<<"$out" || fail "no compute-optimal split: $out"
grep -q "(10x) .* N\* = " <<<"$out" || fail "no optimum at 10x: $out"
grep -q "^held-out test: the largest run 'n5d4'" <<<"$out" || fail "no held-out test: $out"
grep -q "isoFLOP check" <<<"$out" || fail "no isoFLOP section: $out"

js=$("$L" fit "$D/runs.jsonl" --bootstrap 200 --json 2>"$D/err") || fail "--json exited $?: $(cat "$D/err")"
[ "$(wc -l <<<"$js")" = 1 ] || fail "--json: want one line"
python3 - "$js" <<'EOF' || fail "--json content"
import json, sys
j = json.loads(sys.argv[1])
nd, lc, h = j["nd"], j["lc"], j["holdout"]
truth = {"E": 1.7, "A": 400, "alpha": 0.34, "B": 410, "beta": 0.28}
for k, v in truth.items():
    c = nd[k]
    assert c["lo"] <= v <= c["hi"], f"{k}: {v} outside [{c['lo']}, {c['hi']}]"
    assert c["lo"] <= c["est"] <= c["hi"], f"{k}: estimate outside its interval"
assert nd["r2_log"] > 0.99, nd["r2_log"]
assert nd["converged"] and lc["converged"]
assert j["runs"] == 30 and j["bootstrap"] == 200 and abs(j["k"] - 6) < 1e-9
assert h["ok"] and h["name"] == "n5d4" and abs(h["rel_err_nd"]) < 0.02, h
o = j["optimum"][0]
assert o["N"]["lo"] <= o["N"]["est"] <= o["N"]["hi"] and abs(o["N"]["est"] * o["D"]["est"] * 6 / o["C"] - 1) < 1e-6  # 8 significant digits in the JSON
assert len(j["frontier"]) == lc["points"] >= 4
assert isinstance(j["warnings"], list)
EOF

# determinism: same seed, same output; another seed, other intervals but the same estimates
a=$("$L" fit "$D/runs.jsonl" --bootstrap 50 --json) && b=$("$L" fit "$D/runs.jsonl" --bootstrap 50 --json) || fail "fit failed"
[ "$a" = "$b" ] || fail "two runs with one seed differ"
c=$("$L" fit "$D/runs.jsonl" --bootstrap 50 --seed 9 --json) || fail "--seed 9 failed"
[ "$a" != "$c" ] || fail "--seed changed nothing"
python3 - "$a" "$c" <<'EOF' || fail "--seed changed the estimates"
import json, sys
a, c = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert a["nd"]["alpha"]["est"] == c["nd"]["alpha"]["est"] and a["nd"]["alpha"]["lo"] != c["nd"]["alpha"]["lo"]
EOF
# --bootstrap 0: no interval width; stdin; --k
out=$("$L" fit - --bootstrap 0 --k 9 < "$D/runs.jsonl" 2>/dev/null) || fail "stdin exited $?"
grep -Eq "^  alpha  = (0\.[0-9]+) +\[\1, \1\]" <<<"$out" || fail "--bootstrap 0 should give zero-width intervals: $out"
grep -q "^k = 9 FLOPs per parameter per token (--k)" <<<"$out" || fail "--k not used: $out"

# small models on much data: the optimum at the largest compute lies beyond the sizes trained
gen 1e5 1e6 1e9 1e10 0.005 3 > "$D/edge.jsonl"
out=$("$L" fit "$D/edge.jsonl" --bootstrap 20 --k 6 2>/dev/null) || fail "edge grid exited $?"
grep -q "^warnings:" <<<"$out" && grep -q "outside the sizes trained .*train larger models" <<<"$out" ||
  fail "no edge warning: $out"

expect() {
  local want=$1 pat=$2; shift 2
  local err rc
  err=$(timeout 20 "$L" "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" = "$want" ] || fail "lmscope $* exited $rc, want $want: $err"
  grep -q -- "$pat" <<<"$err" || fail "lmscope $*: message lacks '$pat': $err"
}
cp "$D/runs.jsonl" "$D/bad1.jsonl"; echo '{"name": "x", "loss": 3' >> "$D/bad1.jsonl"
expect 1 "bad1.jsonl:31: not valid JSON" fit "$D/bad1.jsonl"
head -3 "$D/runs.jsonl" > "$D/bad2.jsonl"; echo '{"name":"x","tokens":1e9,"flops":1e16,"loss":3}' >> "$D/bad2.jsonl"
expect 1 'bad2.jsonl:4: no "params_nonembed"' fit "$D/bad2.jsonl"
echo '{"name":"x","params_nonembed":1e6,"tokens":1e9,"flops":6e15,"loss":-3}' > "$D/bad3.jsonl"
expect 1 'bad3.jsonl:1: "loss" is -3; it must be a finite number > 0' fit "$D/bad3.jsonl"
echo '{"name":"x","params_nonembed":"big","tokens":1e9,"flops":6e15,"loss":3}' > "$D/bad4.jsonl"
expect 1 'bad4.jsonl:1: "params_nonembed" is not a number' fit "$D/bad4.jsonl"
echo '[1, 2]' > "$D/bad5.jsonl"
expect 1 "bad5.jsonl:1: not a JSON object" fit "$D/bad5.jsonl"
echo '{"name":3,"params_nonembed":1e6,"tokens":1e9,"flops":6e15,"loss":3}' > "$D/bad6.jsonl"
expect 1 'bad6.jsonl:1: "name" is not a string' fit "$D/bad6.jsonl"
head -3 "$D/runs.jsonl" > "$D/few.jsonl"
expect 1 "3 runs; a scaling fit needs at least 4" fit "$D/few.jsonl"
printf '\n\n' > "$D/empty.jsonl"
expect 1 "holds no runs" fit "$D/empty.jsonl"
expect 1 "cannot read" fit "$D/nope.jsonl"
expect 1 "not a regular file" fit "$D"
expect 2 "give one JSON Lines file" fit
expect 2 "give one JSON Lines file" fit "$D/runs.jsonl" "$D/runs.jsonl"
expect 2 "--bootstrap -5" fit "$D/runs.jsonl" --bootstrap -5
expect 2 "--level 2" fit "$D/runs.jsonl" --level 2
expect 2 "--k -1" fit "$D/runs.jsonl" --k -1
expect 2 "unknown" fit "$D/runs.jsonl" --bananas
echo "fit.sh: ok"
