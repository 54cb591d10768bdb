#!/usr/bin/env bash
# report.sh — 'lmscope report' on a synthetic sweep database (tests/cli/report_db.py: 6 sizes x 9
# compute budgets from a known law, one failed and one pending run, 6 suites with built-in shapes):
# the page is self-contained (no external src/href, no <link>, <img>, @import or url(), the vendored
# library inlined byte for byte), every section is there, the data JSON parses and says what the
# database says (runs with their status, the fit and held-out test, each suite's shape label as
# built, claims), HTML in samples and errors is escaped, the output is deterministic; and bad input
# (no database, another schema_version, not a database, no data dir, missing --out) fails with a clear
# message, exit status 1 or 2, and leaves an existing output file untouched. The browser check is
# tests/cli/report_browser.sh.
set -u
L=${LMSCOPE:-./lmscope}
D=$(mktemp -d /tmp/lms_cli_report.XXXXXX)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

tools/vendor/fetch_vega.sh --check >/dev/null || fail "data/vendor does not match data/vendor/VERSIONS"
python3 tests/cli/report_db.py "$D/sweep" || fail "python3 could not write the synthetic database"

out=$("$L" report "$D/sweep" --out "$D/r.html" 2>"$D/err") || fail "report exited $?: $(cat "$D/err")"
grep -q "^wrote $D/r.html (.* MB): 40 runs (38 done, 1 failed, 1 unfinished), 11 suites; L(C) R2 " <<<"$out" ||
  fail "summary line: $out"
[ -z "$(ls "$D" | grep tmp)" ] || fail "a temporary file was left: $(ls "$D")"

python3 - "$D/r.html" "$D/sweep/expected_shapes.json" data/vendor <<'EOF' || fail "page content (above)"
import html.parser, json, os, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
expected = json.load(open(sys.argv[2]))
vendor = sys.argv[3]

class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.scripts, self.bad, self.h2, self.stack, self.rows = set(), [], [], [], [], []
        self.cur = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a: self.ids.add(a["id"])
        if tag in ("link", "img", "iframe", "object", "embed", "base"): self.bad.append(f"<{tag}>")
        for k in ("src", "href", "action", "srcset", "poster"):
            if k in a and not (k == "href" and a[k].startswith("#")): self.bad.append(f"{tag} {k}={a[k]}")
        if tag == "script": self.scripts.append({"attrs": a, "text": ""})
        if tag == "tr": self.rows.append({"class": a.get("class", ""), "text": ""})
        self.stack.append(tag)
        if tag == "h2": self.h2.append("")
    def handle_endtag(self, tag):
        if self.stack: self.stack.pop()
    def handle_data(self, data):
        if self.stack and self.stack[-1] == "script": self.scripts[-1]["text"] += data
        if self.stack and self.stack[-1] == "h2": self.h2[-1] += data
        if self.rows and "tr" in self.stack: self.rows[-1]["text"] += data
p = P()
p.feed(page)
errs = []
if p.bad: errs.append(f"external references: {p.bad}")
for s in re.findall(r"<style>(.*?)</style>", page, re.S):
    if "@import" in s or "url(" in s: errs.append("the stylesheet fetches something")
for sec in ("shows", "runs", "data", "training", "scaling", "isoflop", "domains", "shapes", "suites", "special", "tokens",
            "samples", "lms-status", "lms-data"):
    if sec not in p.ids: errs.append(f"no element id={sec}")
want_h2 = ["What this sweep shows", "Loss vs compute", "The frontier and isoFLOP profiles", "Per-domain loss vs compute",
           "Shapes of tasks", "Probe suites vs compute", "One ability, several metrics (the mirage)",
           "Inverse scaling and copying", "Training curves",
           "Per-token loss: smallest vs largest model", "Samples from each size", "Data", "Runs"]
if p.h2 != want_h2: errs.append(f"sections {p.h2}")
# the scripts: the error catcher, data, the three vendored builds (verbatim), the page's own
if len(p.scripts) != 6: errs.append(f"{len(p.scripts)} <script> elements, want 6")
for f in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js"):
    src = open(os.path.join(vendor, f), encoding="utf-8").read()
    if not any(src in s["text"] for s in p.scripts): errs.append(f"{f} is not inlined verbatim")
data_el = [s for s in p.scripts if s["attrs"].get("id") == "lms-data"]
d = json.loads(data_el[0]["text"])
for k in ("meta", "runs", "metrics", "domains", "evals", "samples", "tokens", "fit", "suites", "claims"):
    if k not in d: errs.append(f"data has no {k}")
st = {r["name"]: r["status"] for r in d["runs"]}
if len(st) != 40 or st.get("L8-C384-x4") != "failed" or st.get("L8-C384-x12") != "pending":
    errs.append(f"runs: {st}")
failed = [r for r in p.rows if "st-failed" in r["class"]]
if len(failed) != 1 or "L8-C384-x4" not in failed[0]["text"] or "out of memory: 9.1 GiB needed <estimate>" not in failed[0]["text"]:
    errs.append(f"the failed run's row: {failed}")
if len([r for r in p.rows if "st-open" in r["class"]]) != 1: errs.append("no row for the pending run")
fit = d["fit"]
lr = [r["name"] for r in d["runs"] if r.get("run_kind") == "lr_sweep"]
if len(lr) != 2 or fit.get("n_runs") != 30 or any(n in fit.get("frontier", []) for n in lr):
    errs.append(f"learning-rate variants {lr} must be shown but not fitted (fit over {fit.get('n_runs')} runs)")
ctl = [r["name"] for r in d["runs"] if r.get("run_kind") == "control"]
if len(ctl) != 6 or any(n in fit.get("frontier", []) for n in ctl): errs.append(f"controls {ctl} must be shown but not fitted")
if not fit["ok"] or fit["lc"]["r2_log"] < 0.99 or not fit["held"]["ok"]: errs.append(f"fit: {fit.get('lc')}, {fit.get('held')}")
for k in ("alpha", "beta"):  # the law was built with 0.3 and 0.3: the intervals must hold them
    if not fit["nd"][k]["lo"] <= 0.3 <= fit["nd"][k]["hi"]: errs.append(f"L(N, D) {k} {fit['nd'][k]}, built with 0.3")
# alpha = beta: the best size grows as C^(beta/(alpha+beta)) = C^0.5
if fit["iso"]["n_minima"] < 3 or abs(fit["iso"]["a"] - 0.5) > 0.05: errs.append(f"isoFLOP: {fit['iso']}")
band = fit["curve_rest"]["points"]
if len(band) != 60 or not all(q["lo"] <= q["L"] + 1e-9 and q["L"] <= q["hi"] + 1e-9 for q in band) or \
   not any(q["hi"] - q["lo"] > 0 for q in band):
    errs.append("the L(C) band does not surround the curve")
if not any(r.get("held_out") for r in d["runs"]): errs.append("no run marked held_out")
# the same L(C) fit per domain and per suite: one row per series, fitted or saying why not
for key, rows, names in (("domain", d.get("lc_domains"), {x["domain"] for x in d["domains"]}),
                         ("suite", d.get("lc_suites"), {x["suite"] for x in d["evals"]})):
    if rows is None or {r[key] for r in rows} != names: errs.append(f"lc per {key}: {rows}")
    elif not any(r["ok"] for r in rows) or any(not r["ok"] and not r.get("why") for r in rows) or \
         any(r["ok"] and not (r["alpha"]["est"] > 0 and r["r2_log"] <= 1) for r in rows):
        errs.append(f"lc per {key}: {rows}")
got = {s["suite"]: [s["acc"]["label"], s["logp"]["label"]] for s in d["suites"]}
if got != expected: errs.append(f"shapes {got}, built as {expected}")
verdicts = {c["claim"]: c["verdict"] for c in d["claims"]}
def verdict(prefix):
    return [v for k, v in verdicts.items() if k.startswith(prefix)][0]
if len(d["claims"]) < 8: errs.append(f"{len(d['claims'])} claims")
if verdict("The law fitted on the smaller") != "weak": errs.append(f"held-out -3% should read weak: {verdicts}")
if verdict("Every run of the grid finished") != "weak": errs.append(f"failed runs should read weak: {verdicts}")
if verdict("Tasks differ in shape: some sta") != "supported": errs.append(f"shapes claim: {verdicts}")
ch = [c for c in d["claims"] if c["claim"].startswith("The probe suites measure")][0]
if ch["verdict"] != "weak" or "capitals, sentiment" not in ch["evidence"] or "quote-repetition" in ch["evidence"]:
    errs.append(f"suites at chance (capitals, sentiment; not the inverse quote-repetition): {ch}")
# the task claims say where their evidence comes from, and pass only the tests that could fail
mir = {r["suite"]: r for r in d["mirage"]}
twins = {x["suite"]: x.get("twin") for x in d["suites"] if x.get("twin")}
if twins != {"add-3d": "add-3d-digits"}: errs.append(f"per-token twins {twins}")
if not mir.get("add-3d", {}).get("reading", "").startswith("mirage") or mir["add-3d"]["origin"] != "controlled" or \
   {c["metric"]: c["label"] for c in mir["add-3d"]["continuous"]} != {"log-prob of the answer": "smooth",
        "token edit distance (lower is better)": "smooth", "per-digit accuracy": "smooth"} or "add-3d-digits" in mir:
    errs.append(f"mirage row of add-3d: {mir.get('add-3d')}")
if mir.get("capitals", {}).get("origin") != "natural" or not mir["capitals"]["reading"].startswith("hidden"): errs.append(f"capitals: {mir.get('capitals')}")
c = [c for c in d["claims"] if c["claim"].startswith("A discrete metric can make")][0]
if c["verdict"] != "supported" or "add-3d (controlled; across runs)" not in c["evidence"]: errs.append(f"mirage claim: {c}")
# the second axis: the largest run's own evaluations over its training (its log-spaced checkpoints)
big = max((r for r in d["runs"] if r.get("run_kind") == "grid" and r["status"] == "done"), key=lambda r: (r["flops"], -r["id"]))["name"]
if mir["add-3d"].get("training", {}).get("run") != big or "discrete_label" not in mir["add-3d"]["training"]:
    errs.append(f"no over-training reading for {big}: {mir['add-3d'].get('training')}")
c = [c for c in d["claims"] if c["claim"].startswith("Copying from the context")][0]
if c["verdict"] != "supported" or "Controlled task" not in c["evidence"] or "Natural text, not counted" not in c["evidence"]:
    errs.append(f"induction claim: {c}")
g = [x for x in d["gains"] if x["kind"] == "control"]
if len(g) != 6 or any(abs(x["gain"] - 0.1) > 1e-9 or x["layers"] != 1 for x in g): errs.append(f"control gains {g}")
c = [c for c in d["claims"] if c["claim"].startswith("Some tasks get worse")][0]
if c["verdict"] != "supported" or "copy-altered (controlled): across runs, accuracy u-shaped" not in c["evidence"] or \
   "quote-repetition (natural): across runs, accuracy inverse" not in c["evidence"] or f"over the training of {big}" not in c["evidence"]: errs.append(f"inverse claim: {c}")
if len(d["samples"]) != 6 or "</script><script>alert(1)</script>" not in d["samples"][0]["text"]:
    errs.append("samples lost or mangled")
if "<script>alert" in page: errs.append("a sample's HTML reached the page unescaped")
tok_runs = sorted({t["run"] for t in d["tokens"]})
if tok_runs != ["L2-C32-3e11", "L6-C256-3e15"]: errs.append(f"per-token runs {tok_runs}")
if errs:
    print("\n".join(errs)); sys.exit(1)
EOF

# a database of the first contract (no runs.kind, no evals.acc_bytes): every run is a grid run
python3 tests/cli/report_db.py "$D/nokind" --no-kind --no-acc-bytes || fail "python3 (no kind)"
out=$("$L" report "$D/nokind" --out "$D/nokind.html" 2>"$D/err") || fail "report without runs.kind exited $?: $(cat "$D/err")"
grep -q "32 runs (30 done, 1 failed, 1 unfinished)" <<<"$out" || fail "without runs.kind: $out"
grep -q '"run_kind":"grid"' "$D/nokind.html" || fail "without runs.kind, runs should read as grid runs"

# deterministic: the same database gives the same page
"$L" report "$D/sweep" --out "$D/r2.html" >/dev/null 2>&1 || fail "second report failed"
cmp -s "$D/r.html" "$D/r2.html" || fail "two reports of one database differ"

# a sweep where nothing finished: a page that says so, not a crash
cp -r "$D/sweep" "$D/nodone"
python3 -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute(\"UPDATE runs SET status='failed', error='killed'\"); db.commit()" \
  "$D/nodone/results.db" || fail "python3 could not edit the database"
out=$("$L" report "$D/nodone" --out "$D/nodone.html" 2>"$D/err") || fail "report over failed runs exited $?: $(cat "$D/err")"
grep -q "0 done, 40 failed" <<<"$out" || fail "failed-run summary: $out"
grep -q "0 finished runs with a validation loss; the fits need at least 4" "$D/nodone.html" || fail "no reason for the missing fit"

# the induction claim fails when the one-layer control gains as much as the grid: it could have failed
cp -r "$D/sweep" "$D/ctl"
python3 -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute(\"UPDATE evals SET logp = 0 WHERE suite = 'copy-second' AND run_id >= 300\"); db.commit()" \
  "$D/ctl/results.db" || fail "python3 could not edit the database"
"$L" report "$D/ctl" --out "$D/ctl.html" >"$D/ctl.out" 2>&1 || fail "report with strong controls exited $?"
grep -q "^not supported: Copying from the context" "$D/ctl.out" || fail "a control that copies as well must refute the claim: $(grep Copying "$D/ctl.out")"
# and there is no controlled evidence without controls (the first contract's database has none)
grep -q "^no data: Copying from the context" <<<"$("$L" report "$D/nokind" --out "$D/nokind2.html" 2>&1)" || fail "no controls must read 'no data'"

# bad input: clear message, exit 1 or 2, the existing output untouched
echo old > "$D/keep.html"
expect() { # want_rc pattern args...
  local want=$1 pat=$2; shift 2
  "$L" report "$@" >"$D/o" 2>"$D/e"; local rc=$?
  [ $rc = "$want" ] || fail "report $*: exit $rc, want $want ($(cat "$D/e"))"
  grep -q -- "$pat" "$D/e" || fail "report $*: message '$(cat "$D/e")' lacks '$pat'"
  [ "$(cat "$D/keep.html")" = old ] || fail "report $*: the existing output was changed"
}
mkdir -p "$D/empty"
expect 1 "no results database at '$D/empty/results.db'" "$D/empty" --out "$D/keep.html"
python3 tests/cli/report_db.py "$D/v2" --schema-version 2 || fail "python3 (v2)"
expect 1 "has schema_version '2'; this lmscope reads version '1' only" "$D/v2" --out "$D/keep.html"
mkdir -p "$D/junk" && head -c 5000 /dev/urandom > "$D/junk/results.db"
expect 1 "results.db" "$D/junk" --out "$D/keep.html"
mkdir -p "$D/other" && python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('CREATE TABLE t (x)')" "$D/other/results.db"
expect 1 "has no table 'meta': it is not an lmscope sweep database" "$D/other" --out "$D/keep.html"
expect 1 "data-dir '$D/empty' has no vendor/vega.min.js" "$D/sweep" --out "$D/keep.html" --data-dir "$D/empty"
LMSCOPE_DATA="$D/empty" expect 1 "LMSCOPE_DATA '$D/empty' has no vendor/vega.min.js" "$D/sweep" --out "$D/keep.html"
mkdir -p "$D/data/vendor" && cp data/vendor/* "$D/data/vendor/"   # vendor/ but no report/template.html
expect 1 "the report template (part of lmscope's data/)" "$D/sweep" --out "$D/keep.html" --data-dir "$D/data"
expect 2 "--out FILE is required" "$D/sweep"
expect 2 "give one sweep directory" --out "$D/keep.html"
expect 2 "bootstrap" "$D/sweep" --out "$D/keep.html" --bootstrap -1
[ -z "$(ls "$D" | grep '\.tmp\.')" ] || fail "a temporary file was left: $(ls "$D")"
echo "report: ok"
