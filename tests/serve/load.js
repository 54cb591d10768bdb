// load.js — a bounded load test of `lmscope serve` on loopback:
//   node tests/serve/load.js LMSCOPE MODEL [CLIENTS] [REQUESTS]
// CLIENTS (8) OpenAI clients at once, each with its own connections and no retries, send
// REQUESTS (25) completions each, one after another; every response must equal the one the same request got when
// sent alone beforehand (text, log-probs, usage), every id must be distinct, all within 60 s.
// Then the server must still answer; SIGTERM while 16 more are in flight must still answer each of
// them it had accepted, correctly, then exit 0 having answered exactly the number of requests that
// reached it (so none was lost, repeated or retried).
'use strict';
const OpenAI = require('openai');
const { fail, check, startServer, stopServer } = require('./lib.js');

const [lmscope, model, nc = '8', nr = '25'] = process.argv.slice(2);
if (!lmscope || !model) fail('usage: node load.js LMSCOPE MODEL [CLIENTS] [REQUESTS]');
const CLIENTS = Number(nc), REQUESTS = Number(nr), LIMIT_MS = 60000, K = 10;

const request = (i) => ({
  model: 'tiny', prompt: `the cat sat on the mat ${i}.`, max_tokens: 4 + (i % 3), temperature: i % 2 ? 0 : 0.9,
  seed: i, echo: true, logprobs: 2, stop: i % 4 === 0 ? ['.'] : undefined,
});
const body = (r) => JSON.stringify({ choices: r.choices, usage: r.usage, model: r.model, object: r.object });

async function main() {
  const watchdog = setTimeout(() => fail(`not done within ${LIMIT_MS} ms`), LIMIT_MS);
  const server = await startServer(lmscope, ['--model', model, '--name', 'tiny', '--max-connections', String(CLIENTS * 2)]);
  const url = `http://127.0.0.1:${server.port}/v1`;
  let sent = 0;
  const mk = () => new OpenAI({ apiKey: 'unused', baseURL: url, maxRetries: 0, timeout: 30000 });
  const solo = mk();
  const want = [];
  for (let i = 0; i < K; i++, sent++) want.push(body(await solo.completions.create(request(i))));
  check(new Set(want).size === K, 'the reference requests should differ');

  const t0 = Date.now();
  const ids = new Set();
  let answered = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    const client = mk();
    for (let j = 0; j < REQUESTS; j++) {
      const i = (c * REQUESTS + j) % K;
      sent++;
      const r = await client.completions.create(request(i));
      check(body(r) === want[i], `client ${c} request ${j}: the body differs from the one sent alone`);
      check(!ids.has(r.id), `id ${r.id} answered twice`);
      ids.add(r.id);
      answered++;
    }
  }));
  const ms = Date.now() - t0;
  check(answered === CLIENTS * REQUESTS && ids.size === CLIENTS * REQUESTS, `${answered} answered of ${CLIENTS * REQUESTS}`);
  const m = await solo.models.list();
  sent++;
  check(m.data[0].id === 'tiny', 'still answering after the load');

  // SIGTERM with requests in flight: 16 longer ones (40 tokens each) are sent, and the signal 100 ms
  // later. Every request the server had accepted is still answered, in full and correctly (at least
  // one after the signal: the drain worked); one it had not yet accepted may only fail to connect.
  const long = (i) => ({ ...request(i), max_tokens: 40, stop: undefined });
  const wantLong = [];
  for (let i = 0; i < 4; i++, sent++) wantLong.push(body(await solo.completions.create(long(i))));
  let signalled = 0;
  const last = Array.from({ length: CLIENTS * 2 }, (_, j) => {
    sent++;
    return mk().completions.create(long(j % 4)).then(
      (r) => ({ ok: body(r) === wantLong[j % 4], after: signalled && Date.now() >= signalled }),
      (e) => ({ err: `${e}` }));
  });
  await new Promise((res) => setTimeout(res, 100));
  signalled = Date.now();
  const st = await stopServer(server, 'SIGTERM');
  const fin = await Promise.all(last);
  check(fin.every((x) => x.ok === true || /Connection error/.test(x.err)), `in flight at SIGTERM: ${JSON.stringify(fin)}`);
  check(fin.some((x) => x.after), `no request was answered after SIGTERM: ${JSON.stringify(fin)}`);
  const refused = fin.filter((x) => x.err).length;
  const n = Number((st.stderr.match(/stopped after (\d+) requests/) || [])[1]);
  check(st.code === 0 && /SIGTERM/.test(st.stderr), `SIGTERM: exit ${st.code} ${st.signal}: ${st.stderr}`);
  check(n === sent - refused, `the server answered ${n} requests, the clients sent ${sent} (${refused} refused at SIGTERM)`);
  clearTimeout(watchdog);
  console.log(`load.js: ok: ${CLIENTS} clients x ${REQUESTS} requests in ${ms} ms (${(answered / ms * 1000).toFixed(0)} requests/s)`);
}

main().catch((e) => fail(e.stack || String(e)));
