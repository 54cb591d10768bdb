#!/usr/bin/env bash
# mpi.sh — data-parallel 'lmscope train' under mpirun with 2 ranks (docs/parallel.md): the per-step
# training and validation losses equal the 1-process run of the same global batch to 1e-5
# relative over 50 steps; only rank 0 writes the run dir; a 2-rank run stopped and resumed on 2
# ranks is bit-exact, and resumes on 1 process (a documented re-shard) within 1e-5; a batch the
# ranks do not divide, and --device cuda, are refused (exit 2) before anything is written; SIGTERM to mpirun stops
# every rank at the same step with a checkpoint; a rank killed with SIGKILL ends the job with
# mpirun's message instead of a hang; commands that do not spread over ranks refuse -np 2.
# Skipped (SKIPPED: line) when mpirun is missing or lmscope was built without MPI.
set -u
. "$(dirname "$0")/lib.bash"
L=${LMSCOPE:-./lmscope}
# Under AddressSanitizer (make asan) LeakSanitizer reports Open MPI's own allocations (made in its
# dlopen'ed plugins, ~120 kB per rank, freed only at exit or never) and fails every rank; leak
# checking stays on for every other test, which covers lmscope's own code without MPI.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
command -v mpirun >/dev/null || { echo "SKIPPED: no mpirun (apt-get install openmpi-bin libopenmpi-dev, then rebuild)"; exit 0; }
"$L" version | grep -q "; MPI" || { echo "SKIPPED: lmscope was built without MPI (make MPI=1)"; exit 0; }
cli_setup mpi
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$D"' EXIT
# containers: no ptrace-based single copy between ranks (CMA), shared memory + self only; root is
# fine here (CI runs as root)
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_btl=self,vader
# every mpirun under a timeout: a hang is a failure, not a stuck test suite
MPI="timeout 120 mpirun --allow-run-as-root --oversubscribe -np 2"
BG="mpirun --allow-run-as-root --oversubscribe -np 2" # in the background, watched by the test itself

for i in $(seq 1 400); do
  echo "the cat sat on the mat $((i % 7)). a dog ran in the park $((i % 5)). we like to read books."
done >"$D/text.txt"
# constant lr after a fixed warmup: --steps does not change the schedule, so runs split by a resume compare
T="--data $D/text.txt --layers 2 --heads 2 --dim 32 --ctx 16 --batch 8 --accum 2 --lr 3e-3 --schedule constant --warmup 3
   --eval-interval 10 --eval-batches 3 --seed 5 --threads 1 --quiet"
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
field() { sed -nE "s/.*\"$2\":([^,}]*).*/\1/p" "$1/metrics.jsonl"; }
# close A B: same number of lines, every pair within 1e-5 relative
close() {
  python3 - "$1" "$2" <<'PY' || fail "$3"
import sys
a, b = (open(f).read().split() for f in sys.argv[1:3])
assert len(a) == len(b) and a, f"{len(a)} vs {len(b)} values"
for i, (x, y) in enumerate(zip(a, b)):
    x, y = float(x), float(y)
    assert abs(x - y) <= 1e-5 * max(abs(x), abs(y)), f"value {i + 1}: {x} vs {y}"
PY
}

# 1. 2 ranks x 1 thread vs 1 process: the same global batch (8 rows x 2 micro-batches) per step
"$L" train $T --out "$D/one" --steps 50 || fail "1-process run"
$MPI "$L" train $T --out "$D/two" --steps 50 2>"$D/err" || fail "2-rank run exited $?: $(cat "$D/err")"
# one line per step: rank 0 alone writes metrics.jsonl
[ "$(field "$D/two" loss | wc -l)" = 50 ] || fail "2-rank metrics.jsonl has $(field "$D/two" loss | wc -l) lines, want 50"
field "$D/one" loss >"$D/l1"; field "$D/two" loss >"$D/l2"
close "$D/l1" "$D/l2" "2-rank losses differ from the 1-process run by more than 1e-5 relative"
field "$D/one" val_loss >"$D/v1"; field "$D/two" val_loss >"$D/v2"
[ "$(wc -l <"$D/v2")" = 5 ] || fail "want 5 validation losses, got $(wc -l <"$D/v2")"
close "$D/v1" "$D/v2" "2-rank validation losses differ from the 1-process run"
cmp -s "$D/l1" "$D/l2" && echo "note: 2-rank losses are bit-identical to the 1-process run"
[ "$(ls "$D/two/checkpoints")" = "$(ls "$D/one/checkpoints")" ] || fail "checkpoint files differ: $(ls "$D/two/checkpoints")"
grep -q '"mpi_ranks":"2"' <(strings "$D/two/checkpoints/step_00000050.optim.safetensors") || fail "optimizer metadata lacks mpi_ranks 2"
[ "$(ls "$D/two")" = "$(ls "$D/one")" ] || fail "run dirs differ: $(ls "$D/two")"

# ... and 4 ranks as 2 pretend machines of 2 (the sum within a machine, then across machines)
LMSCOPE_TEST_NODE_SIZE=2 timeout 120 mpirun --allow-run-as-root --oversubscribe -np 4 "$L" train $T --out "$D/four" --steps 20 2>"$D/err" ||
  fail "4-rank run exited $?: $(cat "$D/err")"
field "$D/four" loss >"$D/l4"
close <(head -20 "$D/l1") "$D/l4" "4-rank losses (2 x 2) differ from the 1-process run by more than 1e-5 relative"

# 2. resume: 20 steps on 2 ranks, then to 50 on 2 ranks: bit-exact with the uninterrupted 2-rank run
$MPI "$L" train $T --out "$D/half" --steps 20 || fail "2-rank first half"
cp -r "$D/half" "$D/half1"
$MPI "$L" train --out "$D/half" --resume --steps 50 --quiet || fail "2-rank resume"
diff <(field "$D/two" loss) <(field "$D/half" loss) >&2 || fail "2-rank resumed losses differ from the uninterrupted 2-rank run"
# ... and on 1 process: the same run re-sharded (same global batches), within 1e-5, with a note
"$L" train --out "$D/half1" --resume --steps 50 2>"$D/err" >/dev/null || fail "1-process resume of a 2-rank run: $(cat "$D/err")"
grep -q "written by 2 MPI ranks, this job has 1" "$D/err" || fail "no re-shard note: $(cat "$D/err")"
field "$D/half1" loss >"$D/l3"
close "$D/l2" "$D/l3" "a 2-rank run resumed on 1 process drifts from the 2-rank run"

# 3. a batch the ranks do not divide: exit 2, a message naming both numbers, nothing written
err=$($MPI "$L" train $T --out "$D/odd" --batch 7 --steps 5 2>&1); rc=$?
[ $rc = 2 ] || fail "--batch 7 on 2 ranks exited $rc, want 2: $err"
grep -q -- "--batch 7 cannot be split evenly over 2 MPI ranks" <<<"$err" || fail "odd batch message: $err"
[ "$(grep -c 'cannot be split' <<<"$err")" = 1 ] || fail "the message should come once (rank 0): $err"
[ -e "$D/odd" ] && fail "a refused run left $D/odd behind"

# 3b. a device under mpirun: refused by the library's check before anything else, exit 2, nothing written
#     (decided by the name, so it is the same refusal in a build without CUDA)
err=$($MPI "$L" train $T --out "$D/gpu" --device cuda --steps 5 2>&1); rc=$?
[ $rc = 2 ] || fail "--device cuda on 2 ranks exited $rc, want 2: $err"
grep -q -- "--device cuda under mpirun is not supported" <<<"$err" || fail "MPI + device message: $err"
[ "$(grep -c 'under mpirun' <<<"$err")" = 1 ] || fail "the message should come once (rank 0): $err"
[ -e "$D/gpu" ] && fail "a refused run left $D/gpu behind"

# 4. SIGTERM to mpirun: every rank stops at the same step, and rank 0 checkpoints it (as metrics.jsonl's last line)
B="--data $D/text.txt --layers 2 --heads 2 --dim 64 --ctx 32 --batch 8 --lr 1e-3 --seed 5 --threads 1 --quiet --ckpt-interval 0"
$BG "$L" train $B --out "$D/sig" --steps 100000 2>"$D/sigerr" &
P=$!
for _ in $(seq 300); do [ "$(lines "$D/sig/metrics.jsonl")" -ge 5 ] && break; sleep 0.1; done
[ "$(lines "$D/sig/metrics.jsonl")" -ge 5 ] || fail "the SIGTERM run logged no steps in 30 s"
kill -TERM $P
timeout 30 tail --pid=$P -f /dev/null || fail "mpirun still running 30 s after SIGTERM"
wait $P
grep -q "interrupted at step" "$D/sigerr" || fail "no 'interrupted' message after SIGTERM: $(cat "$D/sigerr")"
last=$(field "$D/sig" step | tail -1)
[ "$(cat "$D/sig/latest")" = "$(printf 'step_%08d' "$last")" ] || fail "latest is $(cat "$D/sig/latest"), last logged step $last"

# 5. a rank killed with SIGKILL: the job ends (mpirun says which rank died), nothing hangs
$BG "$L" train $B --out "$D/kill" --steps 100000 2>"$D/killerr" &
P=$!
for _ in $(seq 300); do [ "$(lines "$D/kill/metrics.jsonl")" -ge 3 ] && break; sleep 0.1; done
[ "$(lines "$D/kill/metrics.jsonl")" -ge 3 ] || fail "the killed-rank run logged no steps in 30 s"
victim=
for p in $(pgrep -P $P); do
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && victim=$p
done
[ -n "$victim" ] || fail "cannot find rank 1 among mpirun's children"
kill -KILL "$victim"
timeout 30 tail --pid=$P -f /dev/null || fail "the job hangs 30 s after rank 1 was killed"
wait $P && fail "mpirun exited 0 after a rank was killed"
grep -q "rank 1.*signal 9" "$D/killerr" || fail "mpirun did not say that rank 1 died: $(cat "$D/killerr")"

# 6. a command that does not spread over ranks refuses to run as several
err=$($MPI "$L" score --help 2>&1); rc=$?
[ $rc = 2 ] && grep -q "does not spread its work over MPI ranks" <<<"$err" || fail "score under -np 2 exited $rc: $err"
# 7. a sweep spread over 2 ranks (WSD long runs with their cool-down branches): the
#    same finished runs with the same losses, bit for bit, as 1 process (1 thread each); both ranks
#    trained; one row per step in the database; killed mid-sweep and run again, the same result
tiny_shards "$D"
cat >"$D/wsd.json" <<JSON
{"shapes":[{"layers":1,"heads":1,"dim":16},{"layers":1,"heads":2,"dim":32}],"tokens":[640,1280,2560],"ctx":16,"batch":4,
 "schedule":"wsd","cooldown":0.2,"samples":1,"sample_tokens":4,"data":"$D/s"}
JSON
RUNS="select name, status, final_train_loss, val_loss, (select count(*) from metrics m where m.run_id = r.id),
      (select count(distinct step) from metrics m where m.run_id = r.id) from runs r order by name"
"$L" sweep --grid "$D/wsd.json" --suites none --out "$D/w1" --threads 1 2>"$D/err" || fail "1-process sweep: $(cat "$D/err")"
$MPI "$L" sweep --grid "$D/wsd.json" --suites none --out "$D/w2" --threads 1 2>"$D/err" || fail "2-rank sweep exited $?: $(cat "$D/err")"
[ "$(q "$D/w1/results.db" "select count(*) from runs where status = 'done'")" = 6 ] || fail "1-process sweep: want 6 done runs"
diff <(q "$D/w1/results.db" "$RUNS") <(q "$D/w2/results.db" "$RUNS") >&2 || fail "the 2-rank sweep's runs differ from the 1-process sweep's"
for r in 0 1; do grep -q "^\[rank $r\] .* done |" "$D/err" || fail "rank $r trained nothing: $(cat "$D/err")"; done
[ "$(grep -c "^sweep: 6 runs done" "$D/err")" = 1 ] || fail "want one summary line (rank 0): $(cat "$D/err")"
# killed mid-sweep (the first run to reach step 8 SIGKILLs itself; mpirun ends the job), then run again
LMSCOPE_TEST_CRASH=metrics:8 $MPI "$L" sweep --grid "$D/wsd.json" --suites none --out "$D/w3" --threads 1 2>"$D/err3" &&
  fail "the crashing sweep exited 0"
[ "$(q "$D/w3/results.db" "select count(*) from runs where status = 'done'")" -lt 6 ] || fail "the crash came too late to test anything"
$MPI "$L" sweep --grid "$D/wsd.json" --suites none --out "$D/w3" --threads 1 2>"$D/err" || fail "continuing the 2-rank sweep: $(cat "$D/err")"
diff <(q "$D/w1/results.db" "$RUNS") <(q "$D/w3/results.db" "$RUNS") >&2 || fail "a 2-rank sweep killed and continued differs from the 1-process sweep"
echo "mpi.sh: ok"
