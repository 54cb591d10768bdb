# lib.bash — what the CLI test scripts share. Sourced, not run (tools/run_tests.sh runs tests/cli/*.sh):
#   . "$(dirname "$0")/lib.bash"
#   cli_setup NAME            L = the binary ($LMSCOPE or ./lmscope), D = a temp dir removed on exit
#   fail MESSAGE...           print FAIL: MESSAGE to stderr and exit 1
#   expect CODE PATTERN ARGS  lmscope ARGS must exit CODE with PATTERN in its stderr
#   tiny_text FILE            400 lines of a small repetitive English text to train on
#   tiny_shards DIR           two domains (news, stories) of 30 random-word documents, prepared into
#                             DIR/s with 3 validation documents each (the sweep tests' data)
#   q DB SQL                  print the rows of a query, columns joined by |
cli_setup() {
  L=${LMSCOPE:-./lmscope}
  D=$(mktemp -d "/tmp/lms_cli_$1.XXXXXX")
  trap 'rm -rf "$D"' EXIT
}

fail() { echo "FAIL: $*" >&2; exit 1; }

expect() {
  local want=$1 pat=$2; shift 2
  local err rc
  err=$("$L" "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" = "$want" ] || fail "lmscope $* exited $rc, want $want: $err"
  grep -q -- "$pat" <<<"$err" || fail "lmscope $*: message lacks '$pat': $err"
}

tiny_text() {
  local i
  for i in $(seq 1 400); do
    echo "the cat sat on the mat $((i % 7)). a dog ran in the park $((i % 5)). we like to read books."
  done >"$1"
}

tiny_shards() {
  mkdir -p "$1/c"
  python3 - "$1/c" <<'PY'
import random, sys
random.seed(1)
w = 'the a cat dog sat ran on in park mat sun hot we like read books it rains fall birds sing morning'.split()
for d in ['news', 'stories']:
    open(f'{sys.argv[1]}/{d}.txt', 'w').write('\n<|endoftext|>\n'.join(' '.join(random.choice(w) for _ in range(120)) + '.' for i in range(30)))
PY
  "$L" data prepare --out "$1/s" --val-docs 3 "$1/c" >/dev/null 2>&1 || fail "data prepare"
}

q() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); [print(*r, sep="|") for r in c.execute(sys.argv[2])]; c.commit()' "$@"; }
