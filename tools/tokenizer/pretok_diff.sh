#!/usr/bin/env bash
# pretok_diff.sh — build tools/tokenizer/pretok_diff.c against $BUILD/liblmscope.a and compare its
# pre-tokenizer with Python `regex` (apt-get install python3-regex) on random Unicode strings.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
BUILD=${BUILD:-build}
make -s BUILD="$BUILD" "$BUILD/liblmscope.a"
cc -std=gnu11 -O2 -Isrc -o "$BUILD/pretok_diff" tools/tokenizer/pretok_diff.c "$BUILD/liblmscope.a" \
   -lopenblas -lpcre2-8 -ljansson -lcrypto -lm -fopenmp
/usr/bin/python3 tools/tokenizer/pretok_diff.py "$BUILD/pretok_diff" "$@"
