#!/usr/bin/env bash
# run_tests.sh — run every test binary given, then every CLI test script in tests/cli/, and
# print one closing line "N passed, M failed, K skipped" over all of them, after the list of what
# was skipped and why. Exits 1 if anything failed.
#
# A C test skips with SKIP("reason") (tests/harness.h), which prints "SKIPPED: test: reason"; a
# CLI script that cannot run here exits 0 after a line "SKIPPED: reason". A skip is not a pass:
# it is counted apart, and its reason is printed again at the end, so a run on a machine that
# lacks a CPU feature, a device or a tool says what it did not check.
set -u
passed=0; failed=0; skipped=0; failed_names=(); skip_lines=()
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  line=$(printf '%s\n' "$out" | grep -E '^[a-z_0-9]+: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -1)
  if [ -n "$line" ]; then
    read -r p f s < <(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/' <<<"$line")
  else p=0; f=1; s=0; fi
  [ $rc -ne 0 ] && [ "$f" = 0 ] && f=1
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  while IFS= read -r l; do skip_lines+=("$(basename "$t"): ${l#SKIPPED: }"); done < <(grep '^SKIPPED: ' <<<"$out")
  if [ "$f" != 0 ]; then failed_names+=("$(basename "$t")"); printf '%s\n' "$out" | tail -40; fi
  printf '%-28s %s\n' "$(basename "$t")" "${line#*: }"
  [ -n "$line" ] || printf '%-28s %s\n' "" "crashed (exit $rc)"
done
export LMSCOPE="${LMSCOPE:-$PWD/${BUILD:-build}/lmscope}"
for s in tests/cli/*.sh; do
  [ -e "$s" ] || continue
  out=$(bash "$s" 2>&1); rc=$?
  name=$(basename "$s" .sh)
  skip=$(grep -m1 '^SKIPPED:' <<<"$out")
  if [ $rc -ne 0 ]; then
    failed=$((failed + 1)); failed_names+=("cli/$name"); printf '%s\n' "$out" | tail -40; printf '%-28s FAILED\n' "cli/$name"
  elif [ -n "$skip" ]; then
    skipped=$((skipped + 1)); skip_lines+=("cli/$name: ${skip#SKIPPED: }"); printf '%-28s %s\n' "cli/$name" "$skip"
  else passed=$((passed + 1)); printf '%-28s ok\n' "cli/$name"; fi
done
if [ ${#skip_lines[@]} -gt 0 ]; then
  echo "skipped on this machine ($(uname -m), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')):"
  printf '  %s\n' "${skip_lines[@]}"
fi
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
