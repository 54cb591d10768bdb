// make_unicode.js — tiktoken's Unicode character classes and its GPT-2 ids for every code point.
// Run through make_unicode.sh (which fetches npm tiktoken 1.0.22 and dumps the system PCRE2's
// classes first).
//
//   node tools/tokenizer/make_unicode.js header PCRE2_RANGES > src/tokenizer/unicode_classes.h
//   node tools/tokenizer/make_unicode.js fixture > tests/fixtures/gpt2/unicode_contexts.txt
//
// Classes. tiktoken's GPT-2 pattern uses \p{L}, \p{N} and \s of Rust's regex crate (Unicode 16.0
// in tiktoken 1.0.22). They are read from tiktoken itself, not from a Unicode table: a Tiktoken
// built with the 256 single-byte tokens and the pattern "\p{L}" encodes a one-character string to
// its bytes when the character is a letter and to nothing otherwise (tiktoken drops text its
// pattern does not match). The header gives each class as PCRE2 class ranges, whole and as the
// part that the system PCRE2's tables (PCRE2_RANGES: lines "L|N FIRST LAST", hex, from
// pcre2_classes.c) lack.
//
// Fixture. For every code point X (U+0000..U+10FFFF without surrogates) tiktoken's ids of the
// contexts X + "'s" and "a" + X + "1", and the class of X (L, N, W = \s, O = other). Each id is
// written as a number, or as "bK" when the token is the single byte K (0-based) of X's UTF-8
// (so that neighbouring code points whose bytes do not merge share a line). A line covers the
// code points FIRST..LAST (hex) that share class and both patterns:
//   FIRST LAST CLASS | ids of X's | ids of aX1
'use strict';
const fs = require('fs');
const path = require('path');
const modules = process.env.TOK_NODE_MODULES || path.join(__dirname, 'node_modules');
const { get_encoding, Tiktoken } = require(path.join(modules, 'tiktoken'));

const MAX = 0x10ffff;
const isSurrogate = (cp) => cp >= 0xd800 && cp <= 0xdfff;

let bytesBfe = '';
for (let b = 0; b < 256; b++) bytesBfe += Buffer.from([b]).toString('base64') + ' ' + b + '\n';

// membership of every code point in tiktoken's class `pat` (a Uint8Array over 0..MAX)
function members(pat) {
  const t = new Tiktoken(bytesBfe, {}, pat);
  const m = new Uint8Array(MAX + 1);
  for (let cp = 0; cp <= MAX; cp++)
    if (!isSurrogate(cp)) m[cp] = t.encode_ordinary(String.fromCodePoint(cp)).length > 0 ? 1 : 0;
  t.free();
  return m;
}

// [first, last] ranges of a membership array; a range may run across the surrogates
function ranges(m) {
  const out = [];
  let start = -1, last = -1;
  for (let cp = 0; cp <= MAX + 1; cp++) {
    if (isSurrogate(cp)) continue;
    const inside = cp <= MAX && m[cp];
    if (inside && start < 0) start = cp;
    if (inside) last = cp;
    if (!inside && start >= 0) { out.push([start, last]); start = -1; }
  }
  return out;
}

const count = (r) => r.reduce((a, [x, y]) => a + y - x + 1 - (x <= 0xd800 && y >= 0xdfff ? 0x800 : 0), 0);
const hex = (cp) => cp.toString(16).toUpperCase();
// PCRE2 class items, as C string text (backslashes doubled), cut into lines of ~100 characters
function classText(r) {
  const items = r.map(([a, b]) => (a === b ? `\\\\x{${hex(a)}}` : `\\\\x{${hex(a)}}-\\\\x{${hex(b)}}`));
  const lines = [];
  let cur = '';
  for (const it of items) {
    if (cur.length + it.length > 100) { lines.push(cur); cur = ''; }
    cur += it;
  }
  if (cur) lines.push(cur);
  return lines.map((l) => `    "${l}"`).join(' \\\n');
}

// {first, last} C initialisers, four a line
function cRanges(r) {
  const items = r.map(([a, b]) => `{0x${hex(a)}, 0x${hex(b)}}`);
  const lines = [];
  for (let i = 0; i < items.length; i += 4) lines.push('    ' + items.slice(i, i + 4).join(', ') + ',');
  return lines.join(' \\\n');
}

// tiktoken's Unicode version: characters first assigned in 16.0 are classified, those of 17.0 not
function checkVersion(L, N) {
  const new16 = [[0x10d40, N], [0x1c89, L], [0x16d43, L]]; // Garay digit zero, Cyrillic TJE, Kirat Rai letter
  const new17 = [[0x323b0, L]];                            // CJK Unified Ideographs Extension J
  if (!new16.every(([cp, m]) => m[cp]) || new17.some(([cp, m]) => m[cp]))
    throw new Error('tiktoken\'s Unicode version is not 16.0: update the comments and the version checks');
}

function header(pcrePath) {
  const L = members('\\p{L}'), N = members('\\p{N}');
  checkVersion(L, N);
  const sys = { L: new Uint8Array(MAX + 1), N: new Uint8Array(MAX + 1) };
  for (const line of fs.readFileSync(pcrePath, 'utf8').trim().split('\n')) {
    const [k, a, b] = line.split(' ');
    for (let cp = parseInt(a, 16); cp <= parseInt(b, 16); cp++) sys[k][cp] = 1;
  }
  const add = (m, s) => { const o = new Uint8Array(MAX + 1); for (let cp = 0; cp <= MAX; cp++) o[cp] = m[cp] && !s[cp]; return o; };
  for (const [k, m] of [['L', L], ['N', N]])
    for (let cp = 0; cp <= MAX; cp++)
      if (sys[k][cp] && !m[cp]) throw new Error(`U+${hex(cp)} is \\p{${k}} in PCRE2 but not in tiktoken: the additions alone cannot express that`);
  const rL = ranges(L), rN = ranges(N), aL = ranges(add(L, sys.L)), aN = ranges(add(N, sys.N));
  return `/* unicode_classes.h — GENERATED by tools/tokenizer/make_unicode.sh from npm tiktoken 1.0.22; do
 * not edit. GPT-2's pre-tokenizer classes as tiktoken (Rust regex crate, Unicode 16.0) has them,
 * written as PCRE2 character class items:
 *   LMS_TOK_CLASS_L, LMS_TOK_CLASS_N          every letter (\\p{L}) / number (\\p{N}) of Unicode 16.0;
 *   LMS_TOK_CLASS_L_ADD14, LMS_TOK_CLASS_N_ADD14  what Unicode 16.0 adds to PCRE2's Unicode 14.0
 *                                             tables (Debian 12's PCRE2 10.42), which take nothing away.
 * encode.c uses [\\p{L}ADD14] with a PCRE2 whose tables are Unicode 14.0 or 16.0 (fast: PCRE2's
 * own lookup), and the whole ranges with any other (exact whatever the system's version).
 */
#ifndef LMS_TOKENIZER_UNICODE_CLASSES_H
#define LMS_TOKENIZER_UNICODE_CLASSES_H

#define LMS_TOK_UNICODE_VERSION "16.0.0"

/* ${rL.length} ranges, ${count(rL)} code points */
#define LMS_TOK_CLASS_L \\
${classText(rL)}

/* ${rN.length} ranges, ${count(rN)} code points */
#define LMS_TOK_CLASS_N \\
${classText(rN)}

/* ${aL.length} ranges, ${count(aL)} code points */
#define LMS_TOK_CLASS_L_ADD14 \\
${classText(aL)}

/* ${aN.length} ranges, ${count(aN)} code points */
#define LMS_TOK_CLASS_N_ADD14 \\
${classText(aN)}

/* The letters and numbers of both ADD14 classes as sorted {first, last} pairs, for a quick scan
 * of a text: without any of them, PCRE2's Unicode 14.0 \\p{L}/\\p{N} already give tiktoken's split. */
#define LMS_TOK_ADD14_RANGES \\
${cRanges(ranges(add(L, sys.L).map((v, cp) => v || (N[cp] && !sys.N[cp]) ? 1 : 0)))}

#endif
`;
}

function fixture() {
  const L = members('\\p{L}'), N = members('\\p{N}'), W = members('\\s');
  checkVersion(L, N);
  const tk = get_encoding('gpt2');
  const tlen = new Map();
  const tokLen = (id) => {
    let l = tlen.get(id);
    if (l === undefined) tlen.set(id, (l = tk.decode_single_token_bytes(id).length));
    return l;
  };
  // [context, byte offset of X in it]
  const contexts = [[(x) => x + "'s", 0], [(x) => 'a' + x + '1', 1]];
  const lines = [];
  let cur = null, first = 0, prev = 0, nCp = 0;
  for (let cp = 0; cp <= MAX; cp++) {
    if (isSurrogate(cp)) continue;
    const x = String.fromCodePoint(cp), n = Buffer.byteLength(x, 'utf8');
    const cls = L[cp] ? 'L' : N[cp] ? 'N' : W[cp] ? 'W' : 'O';
    const pats = contexts.map(([f, x0]) => {
      let off = 0;
      return Array.from(tk.encode_ordinary(f(x))).map((id) => {
        const l = tokLen(id), o = off;
        off += l;
        return l === 1 && o >= x0 && o < x0 + n ? 'b' + (o - x0) : String(id);
      }).join(' ');
    });
    const key = cls + ' | ' + pats.join(' | ');
    if (key !== cur) {
      if (cur !== null) lines.push(`${hex(first)} ${hex(prev)} ${cur}`);
      cur = key;
      first = cp;
    }
    prev = cp;
    nCp++;
  }
  lines.push(`${hex(first)} ${hex(prev)} ${cur}`);
  tk.free();
  const head = [
    '# tiktoken 1.0.22 (npm, GPT-2 encoding, Unicode 16.0) on every code point X: made by',
    '# tools/tokenizer/make_unicode.sh. FIRST LAST CLASS | ids of X\'s | ids of aX1 (hex code points;',
    '# CLASS L letter, N number, W whitespace, O other; bK = the single-byte token of byte K of X).',
  ];
  process.stderr.write(`${nCp} code points in ${lines.length} lines\n`);
  return head.join('\n') + '\n' + lines.join('\n') + '\n';
}

const [mode, arg] = process.argv.slice(2);
if (mode === 'header' && arg) process.stdout.write(header(arg));
else if (mode === 'fixture') process.stdout.write(fixture());
else {
  process.stderr.write('usage: make_unicode.js header PCRE2_RANGES | fixture\n');
  process.exit(2);
}
