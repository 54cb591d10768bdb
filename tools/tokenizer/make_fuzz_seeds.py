#!/usr/bin/env python3
"""make_fuzz_seeds.py — write seed inputs for tests/fuzz/fuzz_vocab.c into tests/fuzz/seeds/fuzz_vocab/.
Each seed is vocab.json, a NUL byte, merges.txt. Valid seeds use GPT-2's byte<->unicode map."""
import json, os, sys

def byte_map():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}

M = byte_map()
def tok(s): return ''.join(M[b] for b in (s if isinstance(s, bytes) else s.encode('utf-8')))

def seed(name, extra, merges, header=True):
    vocab = {M[b]: b for b in range(256)}
    for i, t in enumerate(extra): vocab[tok(t)] = 256 + i
    text = json.dumps(vocab, ensure_ascii=False).encode() + b'\0'
    text += (b'#version: 0.2\n' if header else b'') + ''.join(f'{tok(a)} {tok(b)}\n' for a, b in merges).encode()
    out = sys.argv[1] if len(sys.argv) > 1 else 'tests/fuzz/seeds/fuzz_vocab'
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, name), 'wb').write(text)

seed('bytes_only', [], [])
seed('small', ['th', 'the', ' t', ' the', 'he'], [('t', 'h'), ('th', 'e'), (' ', 't'), (' t', 'he'), ('h', 'e')])
seed('with_eot', ['ab', 'abc', '<|endoftext|>'], [('a', 'b'), ('ab', 'c')], header=False)
seed('runs', ['aa', 'aaaa', '  ', '    ', '\n\n'], [('a', 'a'), ('aa', 'aa'), (' ', ' '), ('  ', '  '), ('\n', '\n')])
seed('dup_result', ['ab', 'bc', 'abc'], [('a', 'b'), ('b', 'c'), ('ab', 'c'), ('a', 'bc')])
seed('unicode', ['é', 'és', b'\xe4\xb8', '中', '中文'.encode()[:4], '中文'],
     [(b'\xc3', b'\xa9'), ('é', 's'), (b'\xe4', b'\xb8'), (b'\xe4\xb8', b'\xad'), ('中', b'\xe6'), ('中'.encode() + b'\xe6', b'\x96\x87')])
seed('bad_order', ['ab', 'abc'], [('ab', 'c'), ('a', 'b')])
