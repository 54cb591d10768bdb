#!/usr/bin/env bash
# shapes.sh — 'lmscope shapes' on synthetic eval results: each suite's curve gets the label its
# numbers call for (emergent in accuracy while smooth in log-prob, flat, inverse, U, noisy, too few
# points, a domain row's -loss), --x/--continuous/--json change what is read and printed, rows
# without x are skipped and counted, and bad input fails with file:line and the right exit code.
set -u
L=${LMSCOPE:-./lmscope}
D=$(mktemp -d /tmp/lms_cli_shapes.XXXXXX)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Eight models, flops 1e15..1e22, steps 1..128. acc_se 0.03, logp_se 0.05, prob_se 0.02.
acc_e=(0.25 0.26 0.24 0.25 0.25 0.80 0.85 0.84)   # a jump between the 5th and 6th model
acc_f=(0.50 0.52 0.49 0.51 0.50 0.48 0.51 0.50)   # within the error bars
acc_i=(0.90 0.82 0.74 0.66 0.58 0.50 0.42 0.34)   # falling steadily
acc_u=(0.90 0.70 0.40 0.20 0.30 0.60 0.85 0.90)   # dip and recovery (quote repetition)
acc_n=(0.20 0.80 0.20 0.80 0.20 0.80 0.20 0.80)   # significant swings both ways
loss=(5.0 4.5 4.0 3.7 3.5 3.4 3.3 3.25)
for i in 0 1 2 3 4 5 6 7; do
  fl="1e$((15 + i))"; st=$((2 ** i))
  lp=$(awk -v i=$i 'BEGIN { printf "%.3f", -3.0 + 0.3 * i }')    # straight line in log x: smooth
  lpi=$(awk -v i=$i 'BEGIN { printf "%.3f", -0.9 - 0.3 * i }')
  pre="\"model\":\"m$i\",\"kind\":\"mc\",\"step\":$st,\"flops\":$fl,\"tokens\":null"
  echo "{$pre,\"suite\":\"emergent-task\",\"acc\":${acc_e[$i]},\"acc_se\":0.03,\"logp\":$lp,\"logp_se\":0.05,\"prob\":${acc_e[$i]},\"prob_se\":0.02}"
  echo "{$pre,\"suite\":\"flat-task\",\"acc\":${acc_f[$i]},\"acc_se\":0.03,\"logp\":-1.2,\"logp_se\":0.05,\"prob\":0.5,\"prob_se\":0.02}"
  echo "{$pre,\"suite\":\"inverse-task\",\"acc\":${acc_i[$i]},\"acc_se\":0.03,\"logp\":$lpi,\"logp_se\":0.05,\"prob\":${acc_i[$i]},\"prob_se\":0.02}"
  echo "{$pre,\"suite\":\"quote-repetition\",\"acc\":${acc_u[$i]},\"acc_se\":0.03,\"logp\":-1.0,\"logp_se\":0.05,\"prob\":${acc_u[$i]},\"prob_se\":0.02}"
  echo "{$pre,\"suite\":\"noisy-task\",\"acc\":${acc_n[$i]},\"acc_se\":0.03,\"logp\":null,\"logp_se\":null,\"prob\":0.5,\"prob_se\":0.02}"
  echo "{\"model\":\"m$i\",\"suite\":\"domain:web\",\"kind\":\"domain\",\"step\":$st,\"flops\":$fl,\"loss\":${loss[$i]},\"bpb\":1.0,\"tokens_scored\":1000}"
done > "$D/a.jsonl"
{
  echo '{"model":"hf","suite":"emergent-task","kind":"mc","step":null,"flops":null,"acc":0.9,"acc_se":0.03}'
  echo ''
  echo '{"suite":"two-points","kind":"gen","flops":1e15,"step":1,"acc":0.1,"acc_se":0.01,"logp":-2,"logp_se":0.1}'
  echo '{"suite":"two-points","kind":"gen","flops":1e16,"step":2,"acc":0.5,"acc_se":0.01,"logp":-1,"logp_se":0.1}'
} > "$D/b.jsonl"

out=$("$L" shapes "$D/a.jsonl" "$D/b.jsonl" 2>"$D/err") || fail "shapes exited $?: $(cat "$D/err")"
row() { grep -E "^$1 " <<<"$out" | head -1; }
want() { # suite, discrete label, continuous label
  local r; r=$(row "$1")
  [ -n "$r" ] || fail "no row for $1 in: $out"
  read -r _ _ d c _ <<<"$r"
  [ "$d" = "$2" ] && [ "$c" = "$3" ] || fail "$1: got discrete '$d', continuous '$c'; want '$2', '$3' (row: $r)"
}
want emergent-task emergent smooth
want flat-task flat flat
want inverse-task inverse inverse
want quote-repetition u-shaped flat
want noisy-task noisy -
want two-points too-few too-few
want domain:web - smooth
[ "$(row emergent-task | awk '{print $2}')" = 8 ] || fail "emergent-task should count 8 rows (the one without flops skipped)"
grep -q "1 row without \"flops\" skipped" "$D/err" || fail "no skipped-row warning: $(cat "$D/err")"
grep -q "emergent-task acc: .*80% of it in 12% of the range" <<<"$out" || fail "no 'why' line for emergent-task: $out"
grep -q "quote-repetition acc: U: -0.7" <<<"$out" || fail "no 'why' line for the U: $out"
grep -q "no loss_se" <<<"$out" || fail "domain rows without loss_se are not flagged: $out"

# --continuous prob: the continuous metric follows the accuracy here
out=$("$L" shapes "$D/a.jsonl" --continuous prob 2>/dev/null) || fail "--continuous prob exited $?"
want emergent-task emergent emergent
want quote-repetition u-shaped u-shaped
# --x step: the same curves, placed by step; the hf row (no step) is skipped again
out=$("$L" shapes "$D/a.jsonl" "$D/b.jsonl" --x step 2>"$D/err") || fail "--x step exited $?"
want emergent-task emergent smooth
grep -q 'without "step"' "$D/err" || fail "--x step: no skipped-row warning"
# --json: one object per suite, in name order, with the numbers behind the labels
js=$("$L" shapes "$D/a.jsonl" --json 2>/dev/null) || fail "--json exited $?"
[ "$(wc -l <<<"$js")" = 6 ] || fail "--json: want 6 lines (suites), got: $js"
e=$(grep '"suite":"emergent-task"' <<<"$js") || fail "--json: no emergent-task"
grep -q '"discrete":{"metric":"acc","points":8,"label":"emergent"' <<<"$e" || fail "--json discrete: $e"
grep -q '"continuous":{"metric":"logp","points":8,"label":"smooth"' <<<"$e" || fail "--json continuous: $e"
grep -q '"f80":0.12' <<<"$e" || fail "--json: no f80: $e"
grep -q '"shape":"u"' <<<"$(grep quote-repetition <<<"$js")" || fail "--json: the U's shape"
[ "$(head -1 <<<"$js" | cut -c1-24)" = '{"suite":"domain:web","x' ] || fail "--json: not sorted by suite: $(head -1 <<<"$js")"
# stdin
out=$("$L" shapes - < "$D/a.jsonl" 2>/dev/null) || fail "reading stdin exited $?"
want emergent-task emergent smooth

expect() {
  local want=$1 pat=$2; shift 2
  local err rc
  err=$(timeout 10 "$L" "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" = "$want" ] || fail "lmscope $* exited $rc, want $want: $err"
  grep -q -- "$pat" <<<"$err" || fail "lmscope $*: message lacks '$pat': $err"
}
cp "$D/a.jsonl" "$D/bad1.jsonl"; echo '{"suite": "x", "flops": 1e15, "acc": 0.5' >> "$D/bad1.jsonl"
expect 1 "bad1.jsonl:49: not valid JSON" shapes "$D/bad1.jsonl"
printf '{"suite":"x","flops":1,"acc":0.5,"acc_se":0.1}\n{"flops":2,"acc":0.5,"acc_se":0.1}\n' > "$D/bad2.jsonl"
expect 1 "bad2.jsonl:2: no \"suite\"" shapes "$D/bad2.jsonl"
printf '{"suite":"x","flops":1,"acc":0.5}\n' > "$D/bad3.jsonl"
expect 1 "bad3.jsonl:1: \"acc\" without \"acc_se\"" shapes "$D/bad3.jsonl"
printf '{"suite":"x","flops":-5,"acc":0.5,"acc_se":0.1}\n' > "$D/bad4.jsonl"
expect 1 "bad4.jsonl:1: \"flops\" must be a number >= 0" shapes "$D/bad4.jsonl"
printf '{"suite":"x","flops":1,"acc":"high","acc_se":0.1}\n' > "$D/bad5.jsonl"
expect 1 "bad5.jsonl:1: \"acc\" is not a number" shapes "$D/bad5.jsonl"
printf '[1, 2]\n' > "$D/bad6.jsonl"
expect 1 "bad6.jsonl:1: not a JSON object" shapes "$D/bad6.jsonl"
printf '{"suite":"x","flops":1,"acc":0.5,"acc_se":-0.1}\n' > "$D/bad7.jsonl"
expect 1 "acc_se\" must be a number >= 0" shapes "$D/bad7.jsonl"
printf '{"suite":"x","step":1,"acc":0.5,"acc_se":0.1}\n' > "$D/nox.jsonl"
expect 1 "no rows with \"flops\"" shapes "$D/nox.jsonl"
expect 1 "cannot read" shapes "$D/nope.jsonl"
expect 1 "not a regular file" shapes "$D"
mkfifo "$D/fifo"
expect 1 "not a regular file" shapes "$D/fifo"
expect 2 "results files" shapes
expect 2 "--x" shapes "$D/a.jsonl" --x bananas
expect 2 "--continuous" shapes "$D/a.jsonl" --continuous acc
expect 2 "--alpha" shapes "$D/a.jsonl" --alpha 1.5
echo "shapes.sh: ok"
