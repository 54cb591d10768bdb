#!/usr/bin/env python3
"""pretok_diff.py — differential test of lmscope's PCRE2 pre-tokenizer against GPT-2's own: the
pattern run by Python's `regex` module (what OpenAI's encoder.py uses; Debian package
python3-regex). Random strings over the whole Unicode range (surrogates excluded) plus a biased
mix of spaces, letters, digits, apostrophes. PCRE2 10.42 (Debian 12) classifies characters by
Unicode 14; Debian's regex 2022.10.31 by Unicode 15 (Python's unicodedata: 14). Code points whose
letter/number/space class changed between the two (new in Unicode 15: CJK Extension H
U+31350-U+323AF, Kawi, Nag Mundari, ...) are left out of the draws and counted; every other split
must agree.
  make BUILD=build-tok && tools/tokenizer/pretok_diff.sh   (builds the C side, runs this)
  usage: pretok_diff.py DRIVER [N=20000] [SEED=1]"""
import random, subprocess, sys
import regex

PAT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
driver = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
biased = list(" \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2028\u3000\u180e\ufeff\u200b'sStTrRvVmMlLdD0123456789٣½Ⅻ①aé中😀.,!-_") 

import unicodedata
RL, RN, RS = regex.compile(r'\p{L}'), regex.compile(r'\p{N}'), regex.compile(r'\s')
def klass_regex(ch): return 'L' if RL.match(ch) else 'N' if RN.match(ch) else 'S' if RS.match(ch) else 'O'
WS14 = set(map(chr, [9, 10, 11, 12, 13, 0x20, 0x85, 0xa0, 0x1680, *range(0x2000, 0x200b), 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]))
def klass_14(ch):
    c = unicodedata.category(ch)[0]
    return 'L' if c == 'L' else 'N' if c == 'N' else 'S' if ch in WS14 else 'O'
skipped = 0
def rand_cp():
    global skipped
    while True:
        r = rng.random()
        if r < 0.5: return rng.choice(biased)
        if r < 0.8: c = rng.randrange(0x20, 0x3000)
        else: c = rng.randrange(0, 0x110000)
        if 0xD800 <= c <= 0xDFFF: continue
        if klass_regex(chr(c)) != klass_14(chr(c)):
            skipped += 1
            continue
        return chr(c)

texts = [''.join(rand_cp() for _ in range(rng.randrange(1, 60))) for _ in range(n)]
inp = ''.join(t.encode('utf-8').hex() + '\n' for t in texts)
out = subprocess.run([driver], input=inp.encode(), capture_output=True, check=True).stdout.decode().split('\n')
bad = 0
for t, line in zip(texts, out):
    want = [len(m.encode('utf-8')) for m in PAT.findall(t)]
    got = [int(x) for x in line.split()]
    if got != want:
        bad += 1
        if bad <= 5:
            print('differs:', ascii(t), 'lmscope', got, 'regex', want)
print(f'{n} random strings: {n - bad} agree, {bad} differ (regex {regex.__version__}; {skipped} draws of code points classed differently by Unicode 14 and 15 skipped)')
sys.exit(1 if bad else 0)
