#!/usr/bin/env bash
# make_fixture.sh — regenerate tests/fixtures/gpt2/expected.json (GPT-2 ids of hard strings, seeded
# random strings and real text from the JavaScript reference encoders). Fetches the npm packages
# with `npm pack` first (tools/tokenizer/fetch.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tools/tokenizer/fetch.sh >/dev/null
node tools/tokenizer/make_fixture.js > tests/fixtures/gpt2/expected.json.tmp
mv tests/fixtures/gpt2/expected.json.tmp tests/fixtures/gpt2/expected.json
ls -l tests/fixtures/gpt2/expected.json
