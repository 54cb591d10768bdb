#!/usr/bin/env bash
# mpi.sh — data-parallel training over MPI against threads: shape (b) of bench/run.sh (L6 C384 NH6
# V50257 B8 T256, the global batch) trained as 2 MPI ranks x 1 thread and as 1 process x 2 threads,
# alternated REPEATS times (ABAB...). Each run trains STEPS steps of 'lmscope train' on random-word
# text (byte tokens, --vocab 50257); its speed is the median tokens/s of its steps after the first
# (metrics.jsonl, the step alone: no validation or checkpoint inside it); the table gives the
# median over repeats and the ratio. A benchmark, not a test.
#
#   bench/mpi.sh                       3 repeats of 6 steps each (about 4 minutes on 2 cores)
#   REPEATS=5 STEPS=8 bench/mpi.sh
#   LMSCOPE=path/to/lmscope            the binary (default: $BUILD/lmscope, BUILD defaults to build)
#   MPIRUN_ARGS="--bind-to none"       extra mpirun flags (default: none; mpirun binds a rank per core)
#
# Both sides run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset and OMP_WAIT_POLICY=PASSIVE,
# as bench/run.sh does. mpirun binds each rank to a core (its default for -np <= cores).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LMSCOPE=${LMSCOPE:-$BUILD/lmscope}
REPEATS=${REPEATS:-3}
STEPS=${STEPS:-6}
[ -x "$LMSCOPE" ] || { echo "bench/mpi.sh: $LMSCOPE not found; run 'make' first" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "bench/mpi.sh: no mpirun (apt-get install openmpi-bin libopenmpi-dev, make MPI=1)" >&2; exit 2; }
"$LMSCOPE" version | grep -q "; MPI" || { echo "bench/mpi.sh: $LMSCOPE was built without MPI (make MPI=1)" >&2; exit 2; }
D=$(mktemp -d /tmp/lms_bench_mpi.XXXXXX)
trap 'rm -rf "$D"' EXIT
python3 - "$D/text.txt" <<'PY'
import random, sys
random.seed(1)
w = 'the a cat dog sat ran on in park mat sun hot we like read books it rains fall birds sing morning'.split()
open(sys.argv[1], 'w').write(' '.join(random.choice(w) for _ in range(200000)))
PY
ARGS="--data $D/text.txt --vocab 50257 --layers 6 --heads 6 --dim 384 --ctx 256 --batch 8 --steps $STEPS --lr 1e-4
      --eval-interval 100000 --eval-batches 1 --ckpt-interval 0 --quiet"
run() { # name: the median tokens/s of steps 2.. of one run
  local out="$D/$1.$2"
  case $1 in
    mpi2x1) env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE OMPI_MCA_btl_vader_single_copy_mechanism=none \
              mpirun --allow-run-as-root ${MPIRUN_ARGS:-} -np 2 "$LMSCOPE" train $ARGS --threads 1 --out "$out" ;;
    omp1x2) env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE "$LMSCOPE" train $ARGS --threads 2 --out "$out" ;;
  esac
  sed -nE 's/.*"step":([0-9]+),.*"tokens_per_s":([^,}]*).*/\1 \2/p' "$out/metrics.jsonl" | awk '$1 > 1 {print $2}' |
    sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'
  rm -rf "$out"
}
declare -a A B
for i in $(seq "$REPEATS"); do
  A+=("$(run mpi2x1 "$i")"); B+=("$(run omp1x2 "$i")")
  echo "repeat $i: 2 ranks x 1 thread ${A[-1]} tokens/s, 1 process x 2 threads ${B[-1]} tokens/s" >&2
done
med() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
a=$(med "${A[@]}"); b=$(med "${B[@]}")
printf 'shape b (L6 C384 NH6 V50257 B8 T256), median of %d repeats x %d steps:\n' "$REPEATS" "$STEPS"
printf '  %-26s %10.0f tokens/s\n  %-26s %10.0f tokens/s\n  ratio (MPI / threads)      %10.2f\n' \
  "2 MPI ranks x 1 thread" "$a" "1 process x 2 threads" "$b" "$(echo "$a / $b" | bc -l)"
