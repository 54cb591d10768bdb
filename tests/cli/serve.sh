#!/usr/bin/env bash
# serve.sh — 'lmscope serve' from a tiny run trained here (GPT-2's tokenizer, so <|endoftext|>
# exists): bad flags and a port in use fail clearly; then a real OpenAI client (the npm `openai`
# package pinned in tests/serve/package.json, installed with `npm ci` when missing) checks the
# fields, the log-probs against 'lmscope score', lm-evaluation-harness's request shape and the
# errors (tests/serve/client.js), and a bounded load test of 8 clients x 25 requests on loopback
# checks that every request is answered once, correctly, and that SIGTERM stops the server
# cleanly (tests/serve/load.js). Without node this prints SKIPPED (and fails when
# LMSCOPE_REQUIRE_NODE=1, as in CI).
set -u
. "$(dirname "$0")/lib.bash"
cli_setup serve
root=$(cd "$(dirname "$0")/../.." && pwd)
for i in $(seq 1 200); do echo "the cat sat on the mat. a dog ran in the park $((i % 9)). birds sing."; done > "$D/text.txt"
"$L" train --data "$D/text.txt" --out "$D/run" --tokenizer "$root/tests/fixtures/gpt2" --layers 1 --heads 2 --dim 32 \
    --ctx 64 --batch 4 --steps 20 --lr 1e-2 --threads 2 --quiet || fail "training the tiny run"

expect 2 "--model" serve
expect 2 "no such file" serve --model "$D/nope"
expect 2 "--port" serve --model "$D/run" --port 70000
expect 2 "--max-body" serve --model "$D/run" --max-body 0
expect 2 "unexpected" serve --model "$D/run" extra
expect 2 "resolve" serve --model "$D/run" --host no.such.host.invalid --port 0
# a port that is taken: exit 1 with a hint (python holds it: it binds port 0 and says which it got)
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)' \
    >"$D/held" & holder=$!
for _ in $(seq 1 50); do [ -s "$D/held" ] && break; sleep 0.1; done
port=$(cat "$D/held")
[ -n "$port" ] || fail "python did not hold a port"
err=$(timeout 10 "$L" serve --model "$D/run" --port "$port" 2>&1 >/dev/null); rc=$?
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
[ "$rc" = 1 ] && grep -q "another --port" <<<"$err" || fail "serve on a port in use: exit $rc: $err"

if ! command -v node >/dev/null; then
  [ "${LMSCOPE_REQUIRE_NODE:-0}" = 1 ] && fail "node is not installed (tools/deps.sh --test installs it)"
  echo "SKIPPED: node is not installed: the OpenAI client and load tests did not run (tools/deps.sh --test)"
  exit 0
fi
if [ ! -f "$root/tests/serve/node_modules/openai/package.json" ]; then
  if ! npm ci --prefix "$root/tests/serve" --ignore-scripts --no-audit --no-fund >"$D/npm.log" 2>&1; then
    [ "${LMSCOPE_REQUIRE_NODE:-0}" = 1 ] && fail "npm ci --prefix tests/serve failed: $(tail -5 "$D/npm.log")"
    echo "SKIPPED: npm ci --prefix tests/serve failed (no registry?): the OpenAI client tests did not run"
    exit 0
  fi
fi
timeout 60 node "$root/tests/serve/client.js" "$L" "$D/run" || fail "tests/serve/client.js"
timeout 90 node "$root/tests/serve/load.js" "$L" "$D/run" 8 25 || fail "tests/serve/load.js"
echo "serve.sh: ok"
