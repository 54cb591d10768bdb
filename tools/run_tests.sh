#!/usr/bin/env bash
# run_tests.sh — run every test binary given, then every CLI test script in tests/cli/, and
# print one closing line "N passed, M failed" over all of them. Exits 1 if anything failed.
set -u
passed=0; failed=0; failed_names=()
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  line=$(printf '%s\n' "$out" | grep -E '^[a-z_0-9]+: [0-9]+ passed, [0-9]+ failed$' | tail -1)
  if [ -n "$line" ]; then
    p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")
  else p=0; f=1; fi
  [ $rc -ne 0 ] && [ "$f" = 0 ] && f=1
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" != 0 ]; then failed_names+=("$(basename "$t")"); printf '%s\n' "$out" | tail -40; fi
  printf '%-28s %s\n' "$(basename "$t")" "${line:-crashed (exit $rc)}"
done
export LMSCOPE="${LMSCOPE:-$PWD/${BUILD:-build}/lmscope}"
for s in tests/cli/*.sh; do
  [ -e "$s" ] || continue
  out=$(bash "$s" 2>&1); rc=$?
  name=$(basename "$s" .sh)
  # a test that could not run says so on a line starting SKIPPED: (shown instead of "ok")
  if [ $rc -eq 0 ]; then passed=$((passed + 1)); skip=$(grep -m1 '^SKIPPED:' <<<"$out"); printf '%-28s %s\n' "cli/$name" "${skip:-ok}"
  else failed=$((failed + 1)); failed_names+=("cli/$name"); printf '%s\n' "$out" | tail -40; printf '%-28s FAILED\n' "cli/$name"; fi
done
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
