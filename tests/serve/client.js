// client.js — the npm `openai` client (pinned in package.json) against `lmscope serve`:
//   node tests/serve/client.js LMSCOPE MODEL
// models.list; completions.create with echo + logprobs + max_tokens 0 (log-probs equal to
// `lmscope score --no-bos` to the last bit of float32); lm-evaluation-harness's loglikelihood
// request (token ids with <|endoftext|> first, echo, max_tokens 1, logprobs 1: equal to `lmscope
// score`, the generated token greedy); /tokenizer_info, /tokenize and /detokenize as the harness's
// remote tokenizer calls them; greedy generation (deterministic, equal to `lmscope sample
// --temperature 0`); seeded sampling; stop strings; a batch of prompts in order; OpenAI-style
// errors through the client (400 with param and code, 404 model) and raw HTTP (404 path, 405
// method, 413 body, 400 JSON); SIGINT stops it cleanly.
'use strict';
const { execFileSync } = require('node:child_process');
const OpenAI = require('openai');
const { fail, check, startServer, stopServer } = require('./lib.js');

const [lmscope, model] = process.argv.slice(2);
if (!lmscope || !model) fail('usage: node client.js LMSCOPE MODEL');
const NAME = 'tiny';
const TEXT = 'the cat sat on the mat. a dog ran in the park.';

function score(text, noBos) {
  const args = ['score', '--model', model, '--text', text, '--json', '--threads', '1', '--top', '1'];
  if (noBos) args.push('--no-bos');
  return JSON.parse(execFileSync(lmscope, args, { encoding: 'utf8' }));
}

// float32 values compared exactly: score prints 9 significant digits, the server 17
const f32 = (x) => Math.fround(x);

async function expectError(promise, status, param, code, what) {
  try {
    await promise;
  } catch (e) {
    check(e instanceof OpenAI.APIError, `${what}: not an APIError: ${e}`);
    check(e.status === status, `${what}: status ${e.status}, want ${status}`);
    check(param === undefined || e.param === param, `${what}: param ${e.param}, want ${param}`);
    check(code === undefined || e.code === code, `${what}: code ${e.code}, want ${code}`);
    check(typeof e.error?.message === 'string' && e.error.message.length > 10, `${what}: no message`);
    return;
  }
  fail(`${what}: succeeded, want ${status}`);
}

async function raw(port, method, path, body) {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, body });
  const j = await r.json();
  check(j.error && typeof j.error.message === 'string' && 'param' in j.error && 'code' in j.error && j.error.type,
    `${method} ${path}: not an OpenAI error object: ${JSON.stringify(j)}`);
  return { status: r.status, allow: r.headers.get('allow'), j };
}

async function main() {
  const server = await startServer(lmscope, ['--model', model, '--name', NAME, '--max-body', '65536']);
  const client = new OpenAI({ apiKey: 'unused', baseURL: `http://127.0.0.1:${server.port}/v1`, maxRetries: 0, timeout: 30000 });

  const models = await client.models.list();
  check(models.data.length === 1 && models.data[0].id === NAME && models.data[0].object === 'model', 'models.list');

  // echo, max_tokens 0: the prompt's log-probs as `lmscope score --no-bos` gives them
  const ref = score(TEXT, true);
  let r = await client.completions.create({ model: NAME, prompt: TEXT, echo: true, max_tokens: 0, logprobs: 1 });
  check(r.object === 'text_completion' && r.model === NAME && /^cmpl-/.test(r.id) && r.created > 0, 'response header fields');
  let c = r.choices[0], lp = c.logprobs;
  check(c.index === 0 && c.text === TEXT && c.finish_reason === 'length', `echo text: ${JSON.stringify(c.text)}`);
  check(lp.tokens.length === ref.tokens.length, `echo: ${lp.tokens.length} tokens, score has ${ref.tokens.length}`);
  check(lp.token_logprobs[0] === null && lp.top_logprobs[0] === null, 'the first token has no log-prob (null)');
  ref.tokens.forEach((t, i) => {
    check(lp.tokens[i] === t.text && lp.text_offset[i] === t.offset, `token ${i}: ${lp.tokens[i]} vs ${t.text}`);
    if (i > 0) check(f32(lp.token_logprobs[i]) === f32(t.logp), `token ${i}: logprob ${lp.token_logprobs[i]} vs score ${t.logp}`);
    if (i > 0) check(f32(Object.values(lp.top_logprobs[i])[0]) === f32(t.top[0].logp), `token ${i}: top logprob`);
  });
  check(r.usage.prompt_tokens === ref.tokens.length && r.usage.completion_tokens === 0 &&
    r.usage.total_tokens === ref.tokens.length, 'usage with echo');

  // lm-evaluation-harness's loglikelihood request: [[<|endoftext|>, ids...]], echo, max_tokens 1, logprobs 1
  const bos = score(TEXT, false);
  const ids = bos.tokens.map((t) => t.id);
  r = await client.completions.create({ model: NAME, prompt: [ids], echo: true, max_tokens: 1, logprobs: 1, temperature: 0, seed: 1234 });
  lp = r.choices[0].logprobs;
  check(lp.tokens.length === ids.length + 1 && r.usage.completion_tokens === 1, 'lm-eval request: prompt + 1 token');
  for (let i = 1; i < ids.length; i++)
    check(f32(lp.token_logprobs[i]) === f32(bos.tokens[i].logp), `lm-eval request: token ${i} logprob`);
  // the harness's is_greedy test on the continuation, and the generated token is greedy
  for (let i = 1; i <= ids.length; i++) {
    const greedy = lp.token_logprobs[i] === Math.max(...Object.values(lp.top_logprobs[i]));
    if (i < ids.length) check(greedy === (bos.tokens[i].rank === 1), `lm-eval request: is_greedy at ${i}`);
    else check(greedy, 'the generated token is the most likely one');
  }

  // the tokenizer endpoints, as lm-evaluation-harness's tokenizer_backend=remote uses them
  const post = async (path, body) => (await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json();
  const info = await (await fetch(`http://127.0.0.1:${server.port}/tokenizer_info`)).json();
  check(info.eos_token === '<|endoftext|>' && info.max_model_len === 64, `tokenizer_info: ${JSON.stringify(info)}`);
  const tk = await post('/tokenize', { prompt: TEXT, add_special_tokens: false });
  check(JSON.stringify(tk.tokens) === JSON.stringify(ids.slice(1)) && tk.count === ids.length - 1, `/tokenize: ${JSON.stringify(tk)}`);
  const eos = await post('/tokenize', { prompt: info.eos_token, add_special_tokens: false });
  check(eos.tokens.length === 1 && eos.tokens[0] === ids[0], `/tokenize of the eos token: ${JSON.stringify(eos)}`);
  const dt = await post('/detokenize', { tokens: ids });
  check(dt.prompt === '<|endoftext|>' + TEXT, `/detokenize: ${JSON.stringify(dt)}`);

  // greedy generation: deterministic, the same text as `lmscope sample --temperature 0`, usage
  const g1 = await client.completions.create({ model: NAME, prompt: 'the cat', max_tokens: 12, temperature: 0 });
  const g2 = await client.completions.create({ model: NAME, prompt: 'the cat', max_tokens: 12, temperature: 0, seed: 99 });
  const greedy = g1.choices[0].text;
  check(greedy === g2.choices[0].text && greedy.length > 0, `greedy differs: ${JSON.stringify(greedy)} vs ${JSON.stringify(g2.choices[0].text)}`);
  check(g1.choices[0].logprobs === null && g1.usage.completion_tokens >= 1 && g1.usage.completion_tokens <= 12, 'greedy usage');
  const sampled = execFileSync(lmscope, ['sample', '--model', model, '--prompt', 'the cat', '--tokens', '12',
    '--temperature', '0', '--threads', '1'], { encoding: 'utf8' });
  check(sampled.replace(/\n$/, '') === 'the cat' + greedy, `sample says ${JSON.stringify(sampled)}, the server ${JSON.stringify(greedy)}`);

  // sampling with a seed, and a stop string taken from the middle of that text
  const req = { model: NAME, prompt: 'the cat', max_tokens: 16, temperature: 1, seed: 5 };
  const t1 = (await client.completions.create(req)).choices[0].text;
  const t2 = (await client.completions.create(req)).choices[0].text;
  const t3 = (await client.completions.create({ ...req, seed: 6 })).choices[0].text;
  check(t1 === t2 && t1 !== t3 && t1.length >= 8, `seeds: ${JSON.stringify([t1, t2, t3])}`);
  const stop = t1.slice(Math.floor(t1.length / 2), Math.floor(t1.length / 2) + 2);
  const s = await client.completions.create({ ...req, stop: ['@@@', stop] });
  check(s.choices[0].text === t1.slice(0, t1.indexOf(stop)) && s.choices[0].finish_reason === 'stop',
    `stop ${JSON.stringify(stop)}: ${JSON.stringify(s.choices[0].text)} from ${JSON.stringify(t1)}`);

  // a batch: one choice per prompt, in order, each as when asked alone (the sampler restarts per prompt)
  const prompts = ['a dog', 'the park', 'the mat.'];
  const b = await client.completions.create({ ...req, prompt: prompts, echo: true, logprobs: 2 });
  check(b.choices.length === 3, 'batch: 3 choices');
  for (let i = 0; i < 3; i++) {
    const one = await client.completions.create({ ...req, prompt: prompts[i], echo: true, logprobs: 2 });
    check(b.choices[i].index === i && b.choices[i].text === one.choices[0].text && b.choices[i].text.startsWith(prompts[i]) &&
      JSON.stringify(b.choices[i].logprobs) === JSON.stringify(one.choices[0].logprobs),
      `batch choice ${i}: ${JSON.stringify(b.choices[i].text)} vs ${JSON.stringify(one.choices[0].text)}`);
  }

  // errors through the client
  const long = 'the cat sat on the mat. '.repeat(40);
  await expectError(client.completions.create({ model: NAME, prompt: long, max_tokens: 5 }), 400, 'prompt',
    'context_length_exceeded', 'a prompt longer than the context');
  await expectError(client.completions.create({ model: 'gpt-4', prompt: 'x' }), 404, 'model', 'model_not_found', 'another model');
  await expectError(client.completions.create({ model: NAME, prompt: 'x', logprobs: 50 }), 400, 'logprobs', undefined, 'logprobs 50');
  await expectError(client.completions.create({ model: NAME, prompt: 'x', n: 3 }), 400, 'n', undefined, 'n 3');

  // raw HTTP: unknown path, wrong method, too big, not JSON
  let h = await raw(server.port, 'GET', '/v1/chat/completions');
  check(h.status === 404, `unknown path: ${h.status}`);
  h = await raw(server.port, 'GET', '/v1/completions');
  check(h.status === 405 && h.allow === 'POST', `GET /v1/completions: ${h.status} allow ${h.allow}`);
  h = await raw(server.port, 'DELETE', '/v1/models');
  check(h.status === 405 && h.allow === 'GET', `DELETE /v1/models: ${h.status}`);
  h = await raw(server.port, 'POST', '/v1/completions', JSON.stringify({ prompt: 'x'.repeat(70000) }));
  check(h.status === 413, `a 70 kB body with --max-body 65536: ${h.status}`);
  h = await raw(server.port, 'POST', '/v1/completions', '{"prompt": "x", ');
  check(h.status === 400 && h.j.error.type === 'invalid_request_error', `bad JSON: ${h.status}`);
  // and it still answers
  r = await client.completions.create({ model: NAME, prompt: 'the', max_tokens: 1 });
  check(r.choices.length === 1, 'answers after the errors');

  const st = await stopServer(server, 'SIGINT');
  check(st.code === 0 && /SIGINT/.test(st.stderr) && /stopped after \d+ requests/.test(st.stderr),
    `SIGINT: exit ${st.code} ${st.signal}, stderr: ${st.stderr}`);
  console.log('client.js: ok');
}

main().catch((e) => fail(e.stack || String(e)));
