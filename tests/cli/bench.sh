#!/usr/bin/env bash
# bench.sh — 'lmscope bench' on a tiny model: one JSON line with the documented fields for a
# training step and for --sample decoding, and bad flags (exit 2, a clear message, no crash).
set -u
L="${LMSCOPE:?set LMSCOPE to the lmscope binary}"
T=$(mktemp -d /tmp/lms_cli_bench_XXXXXX)
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

tiny="--layers 2 --heads 2 --dim 32 --vocab 50 --batch 2 --ctx 16 --steps 3 --warmup 1 --ceiling-size 64"
expect 0 "train bench on a tiny model" "$L" bench $tiny
[ "$(wc -l < "$T/out")" -eq 1 ] && ok "  one line" || bad "  not one line"
for f in '"mode":"train"' '"tokens_per_s":' '"gflops":' '"ceiling_gflops":' '"fraction_of_ceiling":' \
         '"step_s_median":' '"peak_rss_bytes":' '"planned_bytes":' '"flops_per_token":'; do has "$f"; done
# the line is valid JSON with positive throughput and a FLOP count from the model
if /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["tokens_per_s"] > 0 and r["flops_per_token"] > 0 and r["planned_bytes"] > 0' "$T/out" 2>/dev/null; then
  ok "  valid JSON, positive numbers"; else bad "  not valid JSON or non-positive numbers"; fi

expect 0 "sample bench" "$L" bench --layers 2 --heads 2 --dim 32 --vocab 50 --ctx 16 --sample --steps 2 --warmup 0
has '"mode":"sample"'
has '"tokens_per_s":'

expect 2 "heads not dividing dim" "$L" bench --layers 2 --heads 3 --dim 32 --vocab 50
has "divisible"
expect 2 "zero steps" "$L" bench --steps 0
has "--steps"
expect 2 "non-numeric flag" "$L" bench --layers abc
expect 2 "unknown flag" "$L" bench --bogus 1
expect 0 "--help" "$L" bench --help
has "--sample"

[ $fails -eq 0 ] && echo "bench.sh: all ok" || echo "bench.sh: $fails failed"
[ $fails -eq 0 ]
