#!/bin/bash
# run.sh — `make bench-products` (and part of `make bench`): the weight products of one training
# step of shapes a, b and c (bench/run.sh), timed one by one with the fp32 table (OpenBLAS sgemm),
# the bf16 table (lmscope's AVX512-BF16 product) and the bf16 table reading packed weights (what a
# bf16 training step runs after its first AdamW step), medians of 5, weights from memory, all with
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset like the other benchmarks. Skips where the CPU has
# no AVX512-BF16.
#
#   BUILD=build bench/gemm/run.sh      SHAPES="a" bench/gemm/run.sh
set -u
BIN=${BUILD:-build}/bench-products
[ -x "$BIN" ] || { echo "bench-products: $BIN is missing; run make bench-products" >&2; exit 2; }
echo "bench-products: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), load $(cut -d' ' -f1-3 /proc/loadavg)"
for s in ${SHAPES:-a b c}; do
  case $s in
    a) args="12 768 50257 4 64" ;;
    b) args="6 384 50257 8 256" ;;
    c) args="4 256 8192 16 256" ;;
    *) echo "bench-products: unknown shape '$s' (a, b or c)" >&2; exit 2 ;;
  esac
  echo "shape $s (L C V B T = $args)"
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=passive "$BIN" $args 5 || exit $?
done
