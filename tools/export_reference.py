#!/usr/bin/env python3
"""export_reference.py — an independent check of `lmscope export`: read an exported Hugging Face
GPT-2 directory with nothing of lmscope's (a safetensors reader, a float64 GPT-2 in plain PyTorch
with GPT2LMHeadModel's architecture and a GPT-2 byte-level BPE written here), and print the token
ids and logits of a few texts as JSON: tests/fixtures/export/reference.json, which test_export.c
compares with lmscope's logits on the exports (within 1e-5) and lmscope's ids (exactly).

  /usr/bin/python3 tools/export_reference.py KEEP_DIR > tests/fixtures/export/reference.json

KEEP_DIR holds the exports of test_export.c's two fixture models: KEEP_DIR/bpe and KEEP_DIR/bytes
(Hugging Face directories) and KEEP_DIR/{bpe,bytes}.bin + *_tokenizer.bin (llm.c). Regenerate:
  make build/tests/test_export
  LMS_EXPORT_KEEP=/tmp/lms_export_ref build/tests/test_export reference   # writes the exports
  /usr/bin/python3 tools/export_reference.py /tmp/lms_export_ref > tests/fixtures/export/reference.json
  build/tests/test_export                                                 # now passes against it
(The first run fails test_reference only if the fixture is missing or stale.) The models' weights
come from an integer hash in test_export.c, so they are the same bits on every machine.

What it checks on the way (an assertion stops it otherwise): config.json has what GPT2Config needs
and nothing this GPT-2 does not implement; model.safetensors has exactly GPT2LMHeadModel's
tensors under "transformer." (the lm_head tied: absent or equal to wte); decoding each text's ids
gives the text back; the llm.c checkpoint holds the same parameters (padded vocabulary rows zero,
matrices transposed to [out, in]) and llm.c's tokenizer file the same token bytes as vocab.json.

Needs torch (float64 on the CPU) and the `regex` module (GPT-2's pattern uses \\p{L}, \\p{N}); not
transformers. Leaves out: the fast tokenizer, sampling, F16/BF16 files.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import regex
import torch

EOT = "<|endoftext|>"
TEXTS = {
    "bpe": ["The cat sat on the mat. The dog ran.", "café 24!<|endoftext|>The model's", "  naïve\n\ttext"],
    "bytes": ["Hi, wörld!\n\t42", "\x01\x7f ü€ ok"],
}
PATTERN = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


# ---------------------------------------------------------------- safetensors

def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base, out = 8 + n, {}
    for name, t in header.items():
        assert t["dtype"] == "F32", f"{name}: dtype {t['dtype']}"
        b, e = t["data_offsets"]
        assert base + e <= len(data) and e - b == 4 * math.prod(t["shape"]), name
        arr = np.frombuffer(data[base + b:base + e], dtype="<f4").reshape(t["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float64))
    return out, meta


# ---------------------------------------------------------------- GPT-2 (GPT2LMHeadModel's forward)

def load_model(d):
    cfg = json.load(open(f"{d}/config.json"))
    assert cfg["model_type"] == "gpt2" and cfg["architectures"] == ["GPT2LMHeadModel"]
    assert cfg["activation_function"] == "gelu_new" and cfg.get("n_inner") is None
    assert cfg.get("tie_word_embeddings", True) and cfg.get("scale_attn_weights", True)
    assert not cfg.get("scale_attn_by_inverse_layer_idx", False) and not cfg.get("reorder_and_upcast_attn", False)
    assert cfg["n_positions"] == cfg["n_ctx"]
    w, meta = read_safetensors(f"{d}/model.safetensors")
    assert meta.get("format") == "pt", meta
    L, C, V, T = cfg["n_layer"], cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"]
    shapes = {"wte.weight": [V, C], "wpe.weight": [T, C], "ln_f.weight": [C], "ln_f.bias": [C]}
    for l in range(L):
        for k, s in {"ln_1.weight": [C], "ln_1.bias": [C], "attn.c_attn.weight": [C, 3 * C], "attn.c_attn.bias": [3 * C],
                     "attn.c_proj.weight": [C, C], "attn.c_proj.bias": [C], "ln_2.weight": [C], "ln_2.bias": [C],
                     "mlp.c_fc.weight": [C, 4 * C], "mlp.c_fc.bias": [4 * C], "mlp.c_proj.weight": [4 * C, C],
                     "mlp.c_proj.bias": [C]}.items():
            shapes[f"h.{l}.{k}"] = s
    head = w.pop("lm_head.weight", None)
    assert head is None or torch.equal(head, w["transformer.wte.weight"]), "lm_head is not tied to wte"
    assert sorted(w) == sorted("transformer." + k for k in shapes), sorted(w)
    for k, s in shapes.items():
        assert list(w["transformer." + k].shape) == s, (k, s)
    return cfg, {k[len("transformer."):]: v for k, v in w.items()}


def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * g + b


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(cfg, w, ids):
    T, C, H, eps = len(ids), cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    hd = C // H
    x = w["wte.weight"][torch.tensor(ids)] + w["wpe.weight"][:T]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(cfg["n_layer"]):
        p = f"h.{l}."
        h = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        q, k, v = (h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]).split(C, dim=-1)
        q, k, v = (t.view(T, H, hd).transpose(0, 1) for t in (q, k, v))  # [H, T, hd]
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        att = att.masked_fill(~causal, float("-inf")).softmax(-1)
        y = (att @ v).transpose(0, 1).reshape(T, C)
        x = x + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        x = x + gelu_tanh(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]) @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], eps)
    return x @ w["wte.weight"].T  # the tied head


# ---------------------------------------------------------------- GPT-2 byte-level BPE

def byte_chars():
    """GPT-2's byte -> character map: printable Latin-1 bytes stand for themselves, the other
    bytes take the characters from U+0100 on, in byte order."""
    keep = [b for b in range(256) if 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC or 0xAE <= b <= 0xFF]
    m, nxt = {b: chr(b) for b in keep}, 0x100
    for b in range(256):
        if b not in m:
            m[b], nxt = chr(nxt), nxt + 1
    return m


class BPE:
    def __init__(self, d):
        self.vocab = json.load(open(f"{d}/vocab.json", encoding="utf-8"))
        lines = open(f"{d}/merges.txt", encoding="utf-8").read().split("\n")
        if lines and lines[0].startswith("#version"):
            lines = lines[1:]
        self.ranks = {tuple(l.split(" ")): r for r, l in enumerate(x for x in lines if x)}
        self.bc = byte_chars()
        self.cb = {c: b for b, c in self.bc.items()}
        tc = json.load(open(f"{d}/tokenizer_config.json"))
        specials = [t["content"] for t in tc.get("added_tokens_decoder", {}).values() if t.get("special")]
        self.eot = self.vocab[EOT] if EOT in specials else None

    def word(self, w):
        parts = [self.bc[b] for b in w.encode("utf-8")]
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), math.inf), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            r, _ = min(pairs)
            if r == math.inf:
                break
            a, b = [k for k, v in self.ranks.items() if v == r][0]
            out, i = [], 0
            while i < len(parts):  # every occurrence of the pair, left to right
                if i + 1 < len(parts) and parts[i] == a and parts[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            parts = out
        return [self.vocab[p] for p in parts]

    def encode(self, text):
        pieces = text.split(EOT) if self.eot is not None else [text]
        ids = []
        for k, piece in enumerate(pieces):
            if k:
                ids.append(self.eot)
            for w in PATTERN.findall(piece):
                ids += self.word(w)
        return ids

    def decode(self, ids):
        inv = {i: t for t, i in self.vocab.items()}
        return bytes(self.cb[c] for i in ids for c in inv[i]).decode("utf-8")


# ---------------------------------------------------------------- llm.c files

def check_llmc(path, tok_path, cfg, w, bpe):
    d = open(path, "rb").read()
    h = struct.unpack("<256i", d[:1024])
    L, C, V, T = cfg["n_layer"], cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"]
    Vp = (V + 127) // 128 * 128
    assert h[:8] == (20240326, 3, T, V, L, cfg["n_head"], C, Vp), h[:8]
    x = torch.from_numpy(np.frombuffer(d[1024:], dtype="<f4").astype(np.float64))
    off = 0

    def take(*shape):
        nonlocal off
        n = math.prod(shape)
        t = x[off:off + n].view(*shape)
        off += n
        return t

    wte = take(Vp, C)
    assert torch.equal(wte[:V], w["wte.weight"]) and not wte[V:].any()
    assert torch.equal(take(T, C), w["wpe.weight"])
    for k, shape, tr in [("ln_1.weight", [C], 0), ("ln_1.bias", [C], 0), ("attn.c_attn.weight", [3 * C, C], 1),
                         ("attn.c_attn.bias", [3 * C], 0), ("attn.c_proj.weight", [C, C], 1), ("attn.c_proj.bias", [C], 0),
                         ("ln_2.weight", [C], 0), ("ln_2.bias", [C], 0), ("mlp.c_fc.weight", [4 * C, C], 1),
                         ("mlp.c_fc.bias", [4 * C], 0), ("mlp.c_proj.weight", [C, 4 * C], 1), ("mlp.c_proj.bias", [C], 0)]:
        t = take(L, *shape)
        for l in range(L):
            ref = w[f"h.{l}.{k}"]
            assert torch.equal(t[l], ref.T if tr else ref), (k, l)
    assert torch.equal(take(C), w["ln_f.weight"]) and torch.equal(take(C), w["ln_f.bias"]) and off == x.numel()

    d = open(tok_path, "rb").read()
    h = struct.unpack("<256i", d[:1024])
    nv = len(bpe.vocab)
    eot = bpe.eot if bpe.eot is not None else bpe.vocab.get(bpe.bc[10], 0)  # else the newline's id
    assert h[:4] == (20240328, 2, nv, eot) and not any(h[4:]), h[:4]
    inv, pos = {i: t for t, i in bpe.vocab.items()}, 1024
    for i in range(nv):
        n = d[pos]
        assert d[pos + 1:pos + 1 + n] == bytes(bpe.cb[c] for c in inv[i]), i
        pos += 1 + n
    assert pos == len(d)


def main():
    keep = sys.argv[1]
    out = {"generator": "tools/export_reference.py", "torch": torch.__version__, "tolerance": 1e-5, "models": {}}
    for name, texts in TEXTS.items():
        d = f"{keep}/{name}"
        cfg, w = load_model(d)
        bpe = BPE(d)
        cases = []
        for text in texts:
            ids = bpe.encode(text)
            assert 1 <= len(ids) <= cfg["n_positions"], (text, len(ids))
            assert bpe.decode(ids) == text, text
            with torch.no_grad():
                logits = forward(cfg, w, ids)
            cases.append({"text": text, "ids": ids, "logits": [[float(f"{v:.9g}") for v in row] for row in logits.tolist()]})
        if os.path.exists(f"{d}.bin"):
            check_llmc(f"{d}.bin", f"{d}_tokenizer.bin", cfg, w, bpe)
            print(f"{name}: the llm.c checkpoint and tokenizer file agree with the Hugging Face files", file=sys.stderr)
        out["models"][name] = {"config": {k: cfg[k] for k in ("n_layer", "n_head", "n_embd", "n_positions", "vocab_size")},
                               "cases": cases}
        print(f"{name}: {len(cases)} texts, {sum(len(c['ids']) for c in cases)} tokens", file=sys.stderr)
    json.dump(out, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
