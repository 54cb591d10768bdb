#!/usr/bin/env bash
# report_browser.sh — render 'lmscope report' pages in headless Chromium (Debian's `chromium`) and
# fail on any console error or warning, uncaught error, failed or empty plot. The page's own script
# writes #lms-status with data-views (plots it drew), data-ok (plots with marks), data-empty,
# data-problems (console errors/warnings and uncaught errors, collected from the top of <head>, so
# the inlined library's are caught too) and data-skipped (plots without data, shown as a note);
# this test reads it from --dump-dom after a virtual-time budget (the same run takes the screenshot). Two sweeps: the synthetic one of
# report.sh (every one of its 23 plots must draw marks: 6 of the sweep, 11 suites, 5 of them again under
# inverse scaling and copying, the in-context gain) and the same with every run failed (no plot
# may break; the plots without data say so). It also saves a screenshot (1280x2400; kept at
# $LMSCOPE_REPORT_SCREENSHOT when set) and checks that it is a PNG of that size.
#
# Without chromium the test is SKIPPED, loudly (tools/run_tests.sh prints the SKIPPED line), unless
# LMSCOPE_REQUIRE_BROWSER=1 (CI sets it and installs chromium): then a missing browser fails.
set -u
L=${LMSCOPE:-./lmscope}
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
  [ "${LMSCOPE_REQUIRE_BROWSER:-0}" = 1 ] && { echo "FAIL: chromium is not installed (apt-get install chromium)" >&2; exit 1; }
  echo "SKIPPED: chromium is not installed, so the report was NOT checked in a browser (apt-get install chromium)"
  exit 0
fi
D=$(mktemp -d /tmp/lms_cli_report_browser.XXXXXX)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

chrome() { # args... (a fresh profile each time; no network, no GPU, no sandbox: we run as root in CI)
  timeout 180 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-dev-shm-usage --disable-extensions --hide-scrollbars --user-data-dir="$D/profile" \
    --virtual-time-budget=5000 "$@" 2>>"$D/chrome.log"
}

check() { # page want_views [chromium args]: parse #lms-status of the rendered DOM
  local page=$1 want=$2; shift 2
  chrome "$@" --dump-dom "file://$page" >"$D/dom.html" || fail "chromium exited $? on $page: $(tail -5 "$D/chrome.log")"
  python3 - "$D/dom.html" "$want" <<'EOF'
import html.parser, sys
class P(html.parser.HTMLParser):
    st = None; text = ""; inside = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id") == "lms-status": self.st, self.inside = a, True
    def handle_endtag(self, tag):
        self.inside = False
    def handle_data(self, d):
        if self.inside: self.text += d
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
want = sys.argv[2]
st = p.st or {}
if st.get("data-done") != "1": sys.exit(f"the page did not finish rendering: #lms-status says '{p.text.strip()}'")
views, ok = int(st["data-views"]), int(st["data-ok"])
errs = []
if want != "any" and views != int(want): errs.append(f"{views} plots drawn, want {want}")
if ok != views or int(st["data-empty"]) != 0: errs.append("an empty or failed plot")
if int(st["data-problems"]) != 0: errs.append("console errors or warnings")
if want != "any" and int(st["data-skipped"]) != 0: errs.append("plots without data")
if errs: sys.exit("; ".join(errs) + f" — #lms-status: {p.text.strip()}")
print(p.text.strip())
EOF
}

python3 tests/cli/report_db.py "$D/sweep" || fail "python3 could not write the synthetic database"
"$L" report "$D/sweep" --out "$D/r.html" --bootstrap 50 >/dev/null 2>"$D/err" || fail "report: $(cat "$D/err")"
shot=${LMSCOPE_REPORT_SCREENSHOT:-$D/report.png}
rm -f "$shot"
s=$(check "$D/r.html" 23 --window-size=1280,2400 --screenshot="$shot") || fail "full sweep: $s"
grep -q "rendered 23 of 23 views; empty: 0; without data: 0; problems: 0" <<<"$s" || fail "status: $s"

cp -r "$D/sweep" "$D/nodone"
python3 -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute(\"UPDATE runs SET status='failed'\"); db.commit()" \
  "$D/nodone/results.db" || fail "python3 could not edit the database"
"$L" report "$D/nodone" --out "$D/nodone.html" >/dev/null 2>"$D/err" || fail "report (no finished run): $(cat "$D/err")"
s=$(check "$D/nodone.html" any) || fail "sweep without a finished run: $s"
grep -q "problems: 0" <<<"$s" || fail "status (no finished run): $s"

python3 - "$shot" <<'EOF' || fail "screenshot"
import struct, sys, os
b = open(sys.argv[1], "rb").read(32)
if b[:8] != b"\x89PNG\r\n\x1a\n": sys.exit("not a PNG")
w, h = struct.unpack(">II", b[16:24])
if (w, h) != (1280, 2400): sys.exit(f"screenshot {w}x{h}, want 1280x2400")
if os.path.getsize(sys.argv[1]) < 30000: sys.exit("screenshot suspiciously small (a blank page?)")
EOF
echo "report_browser: ok"
