// bench_tiktoken.js — npm tiktoken's (Rust compiled to WASM) GPT-2 encoding on the same text, one
// thread; checks its ids against lmscope's (IDS_FILE, uint32 little-endian) and prints one JSON line.
//   node bench_tiktoken.js TEXT_FILE IDS_FILE [REPEATS=5]
'use strict';
const fs = require('fs');
const path = require('path');
const { get_encoding } = require(path.join(__dirname, 'node_modules', 'tiktoken'));
const [textFile, idsFile, repsArg] = process.argv.slice(2);
const reps = Number(repsArg || 5);
const buf = fs.readFileSync(textFile);
const text = buf.toString('utf8');
const t0 = process.hrtime.bigint();
const enc = get_encoding('gpt2');
const loadS = Number(process.hrtime.bigint() - t0) / 1e9;
const times = [];
let ids;
for (let r = 0; r < reps; r++) {
  const a = process.hrtime.bigint();
  ids = enc.encode_ordinary(text);
  times.push(Number(process.hrtime.bigint() - a) / 1e9);
}
times.sort((x, y) => x - y);
const med = times[Math.floor(reps / 2)];
const ours = fs.readFileSync(idsFile);
const ourIds = new Uint32Array(ours.buffer, ours.byteOffset, ours.length / 4);
let same = ourIds.length === ids.length;
let firstDiff = -1;
for (let i = 0; same && i < ids.length; i++) if (ids[i] !== ourIds[i]) { same = false; firstDiff = i; }
console.log(JSON.stringify({ impl: 'tiktoken-wasm ' + require(path.join(__dirname, 'node_modules', 'tiktoken', 'package.json')).version,
  threads: 1, bytes: buf.length, tokens: ids.length, median_s: +med.toFixed(4), min_s: +times[0].toFixed(4),
  MB_per_s: +(buf.length / med / 1e6).toFixed(2), tokens_per_s: Math.round(ids.length / med),
  same_ids_as_lmscope: same, first_difference: firstDiff, load_s: +loadS.toFixed(3) }));
enc.free();
if (!same) process.exit(1);
