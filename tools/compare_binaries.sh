#!/usr/bin/env bash
# compare_binaries.sh OLD NEW DIR — run the same 21 jobs with two lmscope binaries (each in DIR/work,
# then moved to DIR/a and DIR/b, so absolute paths agree) and compare everything they write and
# print, timings and timestamps removed: tokenizer, shards, training runs (config.json, metrics,
# checkpoint tensors and metadata), a resume, bf16, eval (+ over training, per-item logs, domains),
# sample, score, inspect, a tiny sweep's results.db, fit, report, both exports, two refusals.
# For a change that claims to change no behaviour: build the commit before it into OLD and run
#   tools/compare_binaries.sh OLD build/lmscope /tmp/cmp
# The last line counts the differences; each one is named above it. Needs data/corpus (make
# corpus) and python3. DIR is wiped first, so it must be new or one this script made.
set -u
[ $# = 3 ] || { echo "usage: tools/compare_binaries.sh OLD_LMSCOPE NEW_LMSCOPE SCRATCH_DIR" >&2; exit 2; }
A=$(realpath "$1"); B=$(realpath "$2"); D=$3; R=$(cd "$(dirname "$0")/.." && pwd)
if [ -e "$D" ] && [ ! -e "$D/.compare_binaries" ]; then
  echo "compare_binaries: $D exists and was not made by this script; give a new directory" >&2; exit 2
fi
rm -rf "$D"; mkdir -p "$D"; touch "$D/.compare_binaries"
[ -d "$R/data/corpus" ] || { echo "compare_binaries: no data/corpus; run 'make corpus' first" >&2; exit 2; }
export OMP_NUM_THREADS=2
jobs() {
step tokenizer train --vocab-size 512 --out tok data/corpus/quotes.txt data/corpus/facts.txt
step data prepare --tokenizer tok --out shards corp
step train --data shards --tokenizer tok --out run1 --layers 2 --heads 2 --dim 32 --ctx 32 --batch 4 --steps 40 --eval-interval 10 --threads 2 --quiet --save-log-steps
step train --data shards --tokenizer tok --out run2 --layers 2 --heads 2 --dim 32 --ctx 32 --batch 4 --steps 20 --decay-steps 40 --eval-interval 10 --threads 2 --quiet
step train --out run2 --resume --steps 40 --threads 2 --quiet
step train --data shards --tokenizer tok --out run3 --layers 1 --heads 2 --dim 32 --ctx 32 --batch 4 --steps 20 --threads 2 --quiet --precision bf16
step eval --model run1 --suites all --threads 2 --out eval.jsonl
step eval --run run1 --over-training --suites capitals,arithmetic-mc --threads 2 --out evalot.jsonl --log-samples logs
step eval --model run1 --domains --threads 2
step sample --model run1 --prompt "The" --tokens 20 --seed 3
step sample --model run1 --prompt "The" --tokens 20 --temperature 0 --bf16
step score --model run1 --text "All that glisters is not gold."
step inspect --model run1 --text "All that glisters is not gold." --html insp.html
step shapes --help
step sweep --preset tiny --data shards --tokenizer tok --out sw --threads 2
step fit sw --json --bootstrap 50
step report sw --out sw/report.html --bootstrap 50
step export --model run1 --hf hf
step export --model run1 --llmc llmc.bin
step train --data shards --out bad --layers 2 --heads 3 --dim 32 --steps 2
step eval --model nope
}
for side in a b; do
  bin=$A; [ $side = b ] && bin=$B
  W="$D/work"; mkdir -p "$W/corp"; cp -r "$R/data" "$W/"; cp "$R"/data/corpus/{quotes,facts,novels}.txt "$W/corp/"
  N=0
  step() { N=$((N+1)); ( cd "$W" && "$bin" "$@" ) >"$D/$side.$N.out" 2>"$D/$side.$N.err"; echo "rc=$?" >>"$D/$side.$N.out"; }
  jobs
  rm -rf "$W/data" "$W/corp"; mv "$W" "$D/$side"
done
python3 - "$D" "$N" <<'PY'
import json, os, sqlite3, struct, sys, re
D, N = sys.argv[1], int(sys.argv[2])
TS = r"\d{4}-\d\d-\d\dT[\d:]+Z"
TIMEK = {"tokens_per_s","elapsed_s","started_utc","finished_utc","seconds","time_s","wall_s","elapsed","ms_per_step"}
def strip(x):
    if isinstance(x, dict): return {k: strip(v) for k, v in x.items() if k not in TIMEK}
    if isinstance(x, list): return [strip(v) for v in x]
    return x
def jl(p):
    out=[]
    for l in open(p, errors="replace"):
        try: out.append(strip(json.loads(l)))
        except Exception: out.append(re.sub(r"\s+[0-9.]+\s*$", "", re.sub(TS, "", re.sub(r"[0-9.]+ ?(s|ms|min)\b|tokens/s.*|elapsed.*|eta.*", "", l))))
    return out
def st(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8+n])
    md = h.pop("__metadata__", {}) or {}
    md = {k: (strip(json.loads(v)) if v[:1] in "{[" else v) for k, v in md.items() if k not in TIMEK}
    return h, md, b[8+n:]
def db(p):
    c = sqlite3.connect(p); out = {}
    for (t,) in c.execute("select name from sqlite_master where type='table'"):
        cols = [r[1] for r in c.execute(f"pragma table_info({t})")]
        keep = [x for x in cols if x not in TIMEK]
        out[t] = (keep, sorted(re.sub(TS, "", repr(r)) for r in c.execute(f"select {','.join(keep)} from {t}")))
    return out
bad = 0
for i in range(1, N + 1):
    a, b = jl(f"{D}/a.{i}.out"), jl(f"{D}/b.{i}.out")
    ea, eb = jl(f"{D}/a.{i}.err"), jl(f"{D}/b.{i}.err")
    if a != b: print(f"step {i}: stdout differs"); bad += 1
    if ea != eb: print(f"step {i}: stderr differs (check: progress lines?)")
fa = {os.path.relpath(os.path.join(r, f), f"{D}/a") for r, _, fs in os.walk(f"{D}/a") for f in fs}
fb = {os.path.relpath(os.path.join(r, f), f"{D}/b") for r, _, fs in os.walk(f"{D}/b") for f in fs}
for f in sorted(fa ^ fb):
    if not re.search(r"-(shm|wal)$|/lock$", f): print("only in", "a" if f in fa else "b", f); bad += 1
for f in sorted(fa & fb):
    pa, pb = f"{D}/a/{f}", f"{D}/b/{f}"
    if f.endswith("lock") or re.search(r"-(shm|wal)$", f): continue
    if f.endswith(".safetensors"): same = st(pa) == st(pb)
    elif f.endswith(".db"): same = db(pa) == db(pb)
    elif f.endswith(".jsonl") or f.endswith(".json"): same = jl(pa) == jl(pb)
    elif f.endswith(".html"):
        h = lambda p: re.sub(r'"(elapsed_s|tokens_per_s)":[0-9.e+-]+', "", re.sub(TS, "", open(p, errors="replace").read()))
        same = h(pa) == h(pb)
    else: same = open(pa, "rb").read() == open(pb, "rb").read()
    if not same:
        print("differs:", f); bad += 1
print(f"== {len(fa & fb)} files and {N} commands compared, {bad} differences")
PY
