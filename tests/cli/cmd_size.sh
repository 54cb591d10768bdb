# cmd_size.sh — every function in src/cli/*.c is at most 80 lines (issue 18: a command parses flags,
# calls the library and prints; the work lives in the library). Lists each offender with its length,
# file:line and first line, and fails when there is one. A function starts at a top-level line that
# opens with an identifier and holds '(' (its signature may run over several lines; a line ending in
# ';' or '}' before the body is a prototype or a one-line function) and ends at the '}' in column 0.
set -u
MAX=${MAX:-80}
cd "$(dirname "$0")/../.." || exit 1
out=$(awk -v max="$MAX" '
FNR == 1 { cand = 0; infn = 0 }
/^[a-zA-Z_]/ && /\(/ && !infn && !cand { cand = 1; start = FNR; name = $0 }
cand && !infn && (/;[ \t]*$/ || /\}[ \t]*$/) && !/\{[ \t]*$/ { cand = 0 }
cand && !infn && /\{[ \t]*$/ { infn = 1; cand = 0 }
infn && /^\}/ { n = FNR - start + 1; if (n > max) printf "%4d lines  %s:%d: %s\n", n, FILENAME, start, substr(name, 1, 70); infn = 0 }
' src/cli/*.c)
if [ -n "$out" ]; then
  echo "FAIL: functions in src/cli/ longer than $MAX lines (move the work into the library):" >&2
  printf '%s\n' "$out" >&2
  exit 1
fi
echo "every function in src/cli/*.c is at most $MAX lines"
