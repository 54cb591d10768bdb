#!/usr/bin/env bash
# sweep.sh — 'lmscope sweep' end to end on a tiny shard dir made here: the tiny preset fills every
# table (two small probe suites written here), FLOPs equal the trainer's, the validation
# loss covers the whole validation set; a WSD grid makes cool-down branches and LR-sweep runs;
# SIGKILL mid-sweep and a rerun finish without duplicate rows or retraining; a diverging run is
# recorded as failed while the others finish; bad grids, another schema version and a held lock
# are refused clearly; 'lmscope fit SWEEP_DIR' reads the database; a run field set in the grid
# (data_seed) reaches config.json, results.db and the report, and left out changes nothing.
set -u
. "$(dirname "$0")/lib.bash"
cli_setup sweep
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$D"' EXIT

tiny_shards "$D"
cat >"$D/probe.jsonl" <<'JSON'
{"context": "the cat sat on the", "choices": [" mat", " sun"], "answer": 0}
{"context": "birds sing in the", "choices": [" morning", " books", " dog"], "answer": 0}
{"context": "we like to read", "target": " books"}
JSON
printf '{"context": "the dog", "target": " ran in the park", "kind": "seq"}\n' >"$D/probe2.jsonl"
TS="$D/probe.jsonl,$D/probe2.jsonl"

# 1. the tiny preset end to end
"$L" sweep --preset tiny --data "$D/s" --suites "$TS" --out "$D/t" --threads 1 2>"$D/err" || fail "tiny sweep exited $?: $(cat "$D/err")"
db="$D/t/results.db"
[ "$(q "$db" "select count(*) from runs where status='done'")" = 4 ] || fail "want 4 done runs: $(q "$db" 'select name,status,error from runs')"
[ "$(q "$db" "select value from meta where key='schema_version'")" = 1 ] || fail "schema_version"
for t in metrics domain_losses samples token_losses evals; do
  [ "$(q "$db" "select count(*) from $t")" -gt 0 ] || fail "table $t is empty"
done
# every step once in metrics; FLOPs as the trainer counted them; runs.tokens = steps x batch x ctx
bad=$(q "$db" "select r.name from runs r where r.steps != (select count(distinct step) from metrics m where m.run_id=r.id)
  or r.steps != (select count(*) from metrics m where m.run_id=r.id)
  or abs(r.flops - (select flops from metrics m where m.run_id=r.id and m.step=r.steps)) > 1e-6*r.flops
  or r.tokens != r.steps*r.batch*r.n_ctx or r.val_loss is null or r.val_bpb is null")
[ -z "$bad" ] || fail "runs inconsistent with their metrics: $bad"
# the validation loss covers the whole validation set: far more tokens than the trainer's 8 default batches
# (8 x 4 x 16 = 512), and the token-weighted mean of the domains is the run's loss
q "$db" "select r.val_loss, sum(d.loss*d.tokens)/sum(d.tokens), sum(d.tokens) from runs r join domain_losses d
  on d.run_id=r.id and d.step=r.steps group by r.id" | python3 -c '
import sys
for l in sys.stdin:
    v, w, n = map(float, l.split("|"))
    assert abs(v - w) < 1e-6 * v, (v, w)
    assert n > 2000, n' || fail "validation loss is not over the whole set, token-weighted"
"$L" sweep --preset tiny --data "$D/s" --suites "$TS" --out "$D/t" --threads 1 2>"$D/err" || fail "rerun of a finished sweep"
[ "$(grep -c 'already done' "$D/err")" = 4 ] || fail "finished runs were not skipped: $(cat "$D/err")"
[ "$(q "$db" "select count(*) from samples")" = 4 ] || fail "samples duplicated by a rerun"
# suites: one row per suite and kind at the end of every run, and at the largest run's log-spaced checkpoints
[ "$(q "$db" "select count(*) from evals e join runs r on r.id=e.run_id where e.step=r.steps")" = 12 ] \
  || fail "want 3 eval rows (probe mc+gen, probe2 seq) per run: $(q "$db" "select run_id,step,suite,kind from evals")"
[ "$(q "$db" "select count(distinct e.step) from evals e join runs r on r.id=e.run_id where r.name='L1-C32-H2-1.28k'")" = 6 ] \
  || fail "want evals at steps 1,2,4,8,16,20 of the largest run"
[ "$(q "$db" "select count(*) from evals where suite like 'domain:%' or acc is null or n is null")" = 0 ] || fail "bad eval rows"
"$L" sweep --preset tiny --data "$D/s" --suites /nonexistent.jsonl --out "$D/b" 2>"$D/err"; [ $? = 2 ] && grep -q "does not exist" "$D/err" || fail "missing suite"

# 2. WSD branches and an LR sweep; fit reads the sweep dir
cat >"$D/wsd.json" <<JSON
{"shapes":[{"layers":1,"heads":1,"dim":16},{"layers":1,"heads":2,"dim":32}],"tokens":[640,1280,2560],"ctx":16,"batch":4,
 "schedule":"wsd","cooldown":0.2,"lr_sweep":{"sizes":1,"factors":[0.5,2],"budget":1},"samples":1,"sample_tokens":4,"data":"$D/s"}
JSON
"$L" sweep --grid "$D/wsd.json" --out "$D/w" --threads 1 2>"$D/err" || fail "wsd sweep: $(cat "$D/err")"
db="$D/w/results.db"
[ "$(q "$db" "select count(*) from runs where status='done'")" = 8 ] || fail "wsd: want 8 done runs"
[ "$(q "$db" "select count(*) from runs where parent is not null and schedule='wsd'")" = 4 ] || fail "wsd: want 4 branches"
[ "$(q "$db" "select count(*) from runs where kind='lr_sweep'")" = 2 ] || fail "wsd: want 2 lr-sweep runs"
# the LR variants train alone at budget 1 (1280 tokens) with the grid's schedule: WSD, same steps as the grid run there
[ "$(q "$db" "select count(*) from runs v join runs g on g.n_embd=v.n_embd and g.kind='grid' and g.steps=v.steps
  where v.kind='lr_sweep' and v.schedule='wsd' and v.parent is null and v.tokens=1280")" = 2 ] || fail "wsd: LR variants not at budget 1 with WSD"
# a branch's metrics up to its branch step are its long run's, bit for bit
[ "$(q "$db" "select count(*) from metrics b join runs rb on b.run_id=rb.id join runs rt on rt.name=rb.parent
  join metrics t on t.run_id=rt.id and t.step=b.step where b.step <= 8 and rb.name='L1-C16-H1-640' and b.loss=t.loss")" = 8 ] \
  || fail "a branch does not continue its long run"
# WSD warmup: the long run's default (steps/20 = 5 of 100) is capped at a fifth of the shortest budget (10 steps -> 2),
# so the shortest branch has a constant-lr phase before its cool-down; the branch keeps the long run's warmup
printf '{"shapes":[{"layers":1,"heads":1,"dim":16}],"tokens":[640,6400],"ctx":16,"batch":4,"schedule":"wsd","samples":0,"data":"%s"}' \
  "$D/s" >"$D/wu.json"
"$L" sweep --grid "$D/wu.json" --out "$D/wu" --threads 1 --suites none 2>"$D/err" || fail "warmup sweep: $(cat "$D/err")"
wu=$(python3 -c 'import json,sys; print(" ".join(str(json.load(open(f))["warmup"]) for f in sys.argv[1:]))' \
  "$D/wu/runs/L1-C16-H1-6.4k/config.json" "$D/wu/runs/L1-C16-H1-640/config.json" 2>&1)
[ "$wu" = "2 2" ] || fail "WSD warmup: long run and branch have '$wu', want '2 2'"
# the largest shape's long run: losses at the log-spaced checkpoints
[ "$(q "$db" "select count(distinct d.step) from domain_losses d join runs r on r.id=d.run_id where r.name='L1-C32-H2-2.56k'")" -ge 6 ] \
  || fail "no losses at the log-spaced checkpoints"
"$L" fit "$D/w" --bootstrap 0 >"$D/fit" 2>&1 || fail "fit on a sweep dir: $(cat "$D/fit")"
grep -q "^6 runs from" "$D/fit" || fail "fit should read the 6 grid runs: $(head -3 "$D/fit")"

# 3. SIGKILL mid-sweep, then a rerun finishes without duplicates or retraining
cat >"$D/kill.json" <<JSON
{"shapes":[{"layers":1,"heads":1,"dim":16},{"layers":1,"heads":2,"dim":32}],"tokens":[640,64000],"ctx":16,"batch":4,"samples":1,"data":"$D/s"}
JSON
"$L" sweep --grid "$D/kill.json" --out "$D/k" --threads 1 2>"$D/kerr" &
pid=$!
# killed once the second run has a checkpoint (step 200 of 1000): the rerun must resume it, not restart
for i in $(seq 1500); do [ -e "$D/k/runs/L1-C16-H1-64k/latest" ] && break; sleep 0.02; done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
touch "$D/k/runs/L1-C16-H1-64k/marker" # a restart would remove the dir; a resume keeps it
db="$D/k/results.db"
first=$(q "$db" "select finished_utc from runs where status='done' order by id limit 1")
[ -n "$first" ] || fail "kill test: no run finished before the kill"
[ "$(q "$db" "select count(*) from runs where status='done'")" -lt 4 ] || fail "kill test: the sweep finished before the kill"
"$L" sweep --grid "$D/kill.json" --out "$D/k" --threads 1 2>"$D/err" || fail "rerun after kill: $(cat "$D/err")"
[ "$(q "$db" "select count(*) from runs where status='done'")" = 4 ] || fail "kill test: not all done after the rerun"
grep -q "already done" "$D/err" || fail "kill test: the finished run was retrained"
[ -e "$D/k/runs/L1-C16-H1-64k/marker" ] || fail "kill test: the killed run was started again instead of resumed"
[ "$(q "$db" "select finished_utc from runs where status='done' order by id limit 1")" = "$first" ] || fail "kill test: run 1 rewritten"
bad=$(q "$db" "select r.name from runs r where r.steps != (select count(*) from metrics m where m.run_id=r.id)
  or (select count(*) from samples s where s.run_id=r.id) != 1")
[ -z "$bad" ] || fail "kill test: duplicate or missing rows for $bad"

# 4. a diverging run is recorded as failed, the others finish
cat >"$D/fail.json" <<JSON
{"shapes":[{"layers":1,"heads":1,"dim":16,"lr":1e30},{"layers":1,"heads":2,"dim":32}],"tokens":[640],"ctx":16,"batch":4,"samples":1,"data":"$D/s"}
JSON
"$L" sweep --grid "$D/fail.json" --out "$D/f" --threads 1 2>"$D/err"; rc=$?
[ $rc = 1 ] || fail "a failed run: want exit 1, got $rc: $(cat "$D/err")"
grep -q "1 of 2 runs failed" "$D/err" || fail "no failure summary: $(cat "$D/err")"
[ "$(q "$D/f/results.db" "select status from runs where name like 'L1-C16%'")" = failed ] || fail "the diverging run is not 'failed'"
q "$D/f/results.db" "select error from runs where status='failed'" | grep -q "diverged" || fail "no error recorded"
[ "$(q "$D/f/results.db" "select status from runs where name like 'L1-C32%'")" = done ] || fail "the other run did not finish"

# 5. --dry-run: the plan with sizes, tokens per parameter resolved to steps, nothing written
printf '{"shapes":[{"layers":1,"heads":1,"dim":16}],"tokens_per_param":[1,2],"ctx":16,"batch":4,"schedule":"wsd","data":"%s"}' "$D/s" >"$D/tpp.json"
out=$("$L" sweep --grid "$D/tpp.json" --dry-run 2>"$D/err") || fail "dry run: $(cat "$D/err")"
# L1 C16: 12*16*16 + 13*16 + 2*16 = 3312 non-embedding parameters (a block and the final LayerNorm);
# 1x -> ceil(3312/64) = 52 steps (3.33k tokens), 2x -> ceil(6624/64) = 104 (6.66k)
grep -Eq "^L1-C16-H1-6.66k +1 +[0-9]+ +3312 +16 +0.01 +104 " <<<"$out" || fail "dry run: the long run: $out"
grep -Eq "^L1-C16-H1-3.33k .* 52 .*\(branch\)" <<<"$out" || fail "dry run: the branch: $out"
grep -q "^total: .* about .* of training" <<<"$out" || fail "dry run: no estimate: $out"
[ ! -e "$D/tpp" ] || fail "dry run wrote something"

# 6. bad grids: exit 2, the field named
bad_grid() { # json want-substring
  printf '%s' "$1" >"$D/bad.json"
  "$L" sweep --grid "$D/bad.json" --data "$D/s" --out "$D/b" 2>"$D/err"; rc=$?
  [ $rc = 2 ] || fail "grid $1: want exit 2, got $rc: $(cat "$D/err")"
  grep -q -- "$2" "$D/err" || fail "grid $1: message lacks '$2': $(cat "$D/err")"
}
bad_grid '{"shapes":[],"tokens":[100]}' '"shapes" must be a non-empty list'
bad_grid '{"shapes":[{"layers":1,"heads":3,"dim":16}],"tokens":[100]}' 'heads 3 does not divide dim 16'
bad_grid '{"shapes":[{"layers":1,"heads":1,"dim":16}]}' 'no token budgets'
bad_grid '{"shapes":[{"layers":1,"heads":1,"dim":16}],"tokens":[100],"colour":1}' 'unknown field "colour"'
bad_grid '{"shapes":[{"layers":1,"heads":1,"dim":16}],"tokens":[200,100]}' '"tokens" must increase'
bad_grid '{"shapes":[{"layers":1,"heads":1,"dim":16}],"tokens":[100],"lr_sweep":{"sizes":2,"factors":[2]}}' 'lr_sweep.sizes'
bad_grid '{"shapes":[{"layers":1,"heads":1,"dim":16}],"tokens":[100,200],"lr_sweep":{"sizes":1,"factors":[2],"budget":2}}' 'lr_sweep.budget" is 2 but the grid has 2 budgets'
bad_grid '{"shapes":' 'not valid JSON'
bad_grid '{"shapes":[{"layers":1,"heads":1,"dim":16}],"tokens":[100],"precision":"fp16"}' '"precision" must be "fp32" or "bf16"$'
LMSCOPE_MEM_AVAILABLE=100K "$L" sweep --preset tiny --data "$D/s" --out "$D/b" 2>"$D/err"; rc=$?
[ $rc = 2 ] && grep -q "needs about .* GiB" "$D/err" || fail "memory: want exit 2 with the estimate, got $rc: $(cat "$D/err")"
[ ! -e "$D/b" ] || fail "a refused grid left a sweep dir"
"$L" sweep --preset nope --data "$D/s" --out "$D/b" 2>"$D/err"; [ $? = 2 ] && grep -q "demo, quick, emergence and tiny" "$D/err" || fail "unknown preset"
"$L" sweep --preset tiny --out "$D/b" 2>"$D/err"; [ $? = 2 ] && grep -q -- "--data" "$D/err" || fail "no data"
"$L" sweep --preset tiny --grid "$D/wsd.json" --out "$D/b" 2>/dev/null; [ $? = 2 ] || fail "--preset with --grid"
"$L" sweep --grid "$D/wsd.json" --out "$D/t" 2>"$D/err"; [ $? = 1 ] && grep -q "another grid" "$D/err" || fail "another grid on a sweep dir"

# 7. the lock, and a database of another schema version
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a"); fcntl.flock(f, fcntl.LOCK_EX); open(sys.argv[2], "w").close(); time.sleep(30)' "$D/t/lock" "$D/locked" &
lk=$!
for i in $(seq 200); do [ -e "$D/locked" ] && break; sleep 0.05; done
"$L" sweep --preset tiny --data "$D/s" --out "$D/t" 2>"$D/err"; rc=$?
[ $rc = 1 ] && grep -q "in use: another 'lmscope sweep'" "$D/err" || fail "lock: want exit 1 'in use', got $rc: $(cat "$D/err")"
kill $lk; wait $lk 2>/dev/null
q "$D/t/results.db" "update meta set value='2' where key='schema_version'"
"$L" sweep --preset tiny --data "$D/s" --out "$D/t" 2>"$D/err"; rc=$?
[ $rc = 1 ] && grep -q "schema version 2 but this lmscope reads version 1" "$D/err" || fail "schema version: got $rc: $(cat "$D/err")"
"$L" fit "$D/t" 2>"$D/err"; [ $? = 1 ] && grep -q "schema version 2" "$D/err" || fail "fit on another schema version"

# 8. a run field set through the grid (data_seed: one row of the config-field table, train.h) reaches
# each run's config.json, its results.db column and the report's data and run table; left out, the
# runs are those of before the field existed (no key in config.json, the same losses) and the
# report has no column for it; data_seed = seed is the same run as without it
ds_sweep() { # name extra-json
  printf '{"shapes":[{"layers":1,"heads":1,"dim":16}],"tokens":[640],"ctx":16,"batch":4,"samples":0%s,"data":"%s"}' "$2" "$D/s" >"$D/$1.json"
  "$L" sweep --grid "$D/$1.json" --out "$D/$1" --threads 1 --suites none 2>"$D/err" || fail "sweep $1: $(cat "$D/err")"
  "$L" report "$D/$1" --out "$D/$1.html" >/dev/null 2>"$D/err" || fail "report $1: $(cat "$D/err")"
}
ds_sweep ds0 ''
ds_sweep ds1 ',"data_seed":1'
ds_sweep ds7 ',"data_seed":7'
c7="$D/ds7/runs/L1-C16-H1-640/config.json"
grep -q '"data_seed": "7"' "$c7" || fail "data_seed is not in config.json: $(cat "$c7")"
! grep -q data_seed "$D/ds0/runs/L1-C16-H1-640/config.json" || fail "config.json of a run without data_seed holds it"
[ "$(q "$D/ds7/results.db" "select data_seed from runs")" = 7 ] || fail "runs.data_seed is not 7"
[ "$(q "$D/ds0/results.db" "select data_seed from runs")" = 0 ] || fail "runs.data_seed of a default run is not 0"
grep -q '"data_seed":7' <<<"$(q "$D/ds7/results.db" "select value from meta where key='grid_json'")" || fail "grid_json lacks data_seed"
! grep -q 'data_seed' <<<"$(q "$D/ds0/results.db" "select value from meta where key='grid_json'")" || fail "grid_json of a grid without data_seed holds it"
losses() { q "$1" "select step, loss from metrics order by step"; }
[ "$(losses "$D/ds1/results.db")" = "$(losses "$D/ds0/results.db")" ] || fail "data_seed = seed is not the run without data_seed"
[ "$(losses "$D/ds7/results.db")" != "$(losses "$D/ds0/results.db")" ] || fail "data_seed 7 did not change the data order"
python3 - "$D/ds7.html" "$D/ds0.html" <<'PY' || fail "report: data_seed"
import json, re, sys
def page(f):
    h = open(f).read()
    return h, json.loads(re.search(r'<script id="lms-data" type="application/json">(.*?)</script>', h, re.S).group(1))
h7, d7 = page(sys.argv[1])
h0, d0 = page(sys.argv[2])
assert [r["data_seed"] for r in d7["runs"]] == [7], d7["runs"]
t7 = re.search(r'<table class="runs">.*?</table>', h7, re.S).group(0)
assert "<th>data seed</th>" in t7 and "<td>7</td>" in t7, t7
assert "data seed" not in re.search(r'<table class="runs">.*?</table>', h0, re.S).group(0)
PY
# a results.db from before the data_seed column: fit and report (readers) leave every byte of it as
# it was, and the report's data has no data_seed; the sweep (a writer) continuing it adds the column
cp -r "$D/ds0" "$D/old" && rm -f "$D/old/lock"
q "$D/old/results.db" "alter table runs drop column data_seed"
cols() { q "$1" "select name from pragma_table_info('runs')" | tr '\n' ' '; }
before=$(sha256sum <"$D/old/results.db"); c0=$(cols "$D/old/results.db")
! grep -q data_seed <<<"$c0" || fail "could not make an old-layout results.db: $c0"
"$L" fit "$D/old" --bootstrap 0 >"$D/fit" 2>&1; grep -q "runs from\|need at least\|fit" "$D/fit" || fail "fit on an old results.db: $(cat "$D/fit")"
"$L" report "$D/old" --out "$D/old.html" >/dev/null 2>"$D/err" || fail "report on an old results.db: $(cat "$D/err")"
[ "$(sha256sum <"$D/old/results.db")" = "$before" ] || fail "fit or report changed an old results.db"
[ "$(cols "$D/old/results.db")" = "$c0" ] || fail "fit or report changed the columns of an old results.db"
! grep -q '"data_seed"' "$D/old.html" || fail "the report of an old results.db has data_seed"
"$L" sweep --grid "$D/ds0.json" --out "$D/old" --threads 1 --suites none 2>"$D/err" || fail "sweep continuing an old results.db: $(cat "$D/err")"
grep -q "already done" "$D/err" || fail "the old sweep's run was retrained: $(cat "$D/err")"
[ "$(cols "$D/old/results.db")" = "${c0}data_seed " ] || fail "the sweep did not add data_seed: $(cols "$D/old/results.db")"
# a grid whose data_seed is out of range is refused with the key named
printf '{"shapes":[{"layers":1,"heads":1,"dim":16}],"tokens":[640],"data_seed":-1}' >"$D/bad.json"
"$L" sweep --grid "$D/bad.json" --data "$D/s" --out "$D/b" 2>"$D/err"; [ $? = 2 ] && grep -q '"data_seed" must be an integer' "$D/err" || fail "data_seed -1: $(cat "$D/err")"
echo ok
