# lib.bash — what the CLI test scripts share. Sourced, not run (tools/run_tests.sh runs tests/cli/*.sh):
#   . "$(dirname "$0")/lib.bash"
#   cli_setup NAME            L = the binary ($LMSCOPE or ./lmscope), D = a temp dir removed on exit
#   fail MESSAGE...           print FAIL: MESSAGE to stderr and exit 1
#   expect CODE PATTERN ARGS  lmscope ARGS must exit CODE with PATTERN in its stderr
#   tiny_text FILE            400 lines of a small repetitive English text to train on
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
