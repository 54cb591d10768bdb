#!/usr/bin/env bash
# make_unicode.sh — regenerate src/tokenizer/unicode_classes.h (tiktoken's \p{L} and \p{N} as
# PCRE2 ranges, and what they add to the system PCRE2's tables) and
# tests/fixtures/gpt2/unicode_contexts.txt (tiktoken's ids of X's and aX1 for every code point X).
# Fetches npm tiktoken 1.0.22 first (tools/tokenizer/fetch.sh); takes about a minute.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tools/tokenizer/fetch.sh >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -std=gnu11 -O2 -o "$tmp/pcre2_classes" tools/tokenizer/pcre2_classes.c -lpcre2-8
"$tmp/pcre2_classes" > "$tmp/pcre2_ranges.txt"
node tools/tokenizer/make_unicode.js header "$tmp/pcre2_ranges.txt" > "$tmp/unicode_classes.h"
node tools/tokenizer/make_unicode.js fixture > "$tmp/unicode_contexts.txt"
mv "$tmp/unicode_classes.h" src/tokenizer/unicode_classes.h
mv "$tmp/unicode_contexts.txt" tests/fixtures/gpt2/unicode_contexts.txt
ls -l src/tokenizer/unicode_classes.h tests/fixtures/gpt2/unicode_contexts.txt
