#!/usr/bin/env python3
"""gpt2_formats.py — write one small random GPT-2 twice, in the layouts real GPT-2 weights come
in, for tests/cli/gpt2_formats.sh:
  OUT/hf/model.safetensors + config.json   Hugging Face: "transformer."-prefixed names, Conv1D
                                           [in, out] matrices, the attn.bias mask buffers, a tied
                                           lm_head.weight, plus GPT-2's vocab.json + merges.txt
  OUT/gpt2_tiny.bin                        llm.c version 3: 256 x int32 header, fp32 parameters in
                                           llm.c's order, [out, in] matrices, vocabulary padded
Standard library only (struct, json, random): no torch needed. Usage: gpt2_formats.py OUT GPT2_TOKENIZER_DIR
"""
import json, os, random, shutil, struct, sys

out, tokdir = sys.argv[1], sys.argv[2]
L, NH, C, T, V, VP = 1, 2, 8, 16, 50257, 50304
rng = random.Random(7)


def mat(r, c, std=0.02):
    return [[rng.gauss(0.0, std) for _ in range(c)] for _ in range(r)]


def vec(n, mean=0.0, std=0.02):
    return [mean + rng.gauss(0.0, std) for _ in range(n)]


def transpose(m):
    return [list(col) for col in zip(*m)]


# parameters in Hugging Face layout (Conv1D weights are [in, out])
p = {"wte.weight": mat(V, C, 0.5), "wpe.weight": mat(T, C, 0.1)}
for i in range(L):
    h = f"h.{i}."
    p[h + "ln_1.weight"], p[h + "ln_1.bias"] = vec(C, 1.0, 0.1), vec(C)
    p[h + "attn.c_attn.weight"], p[h + "attn.c_attn.bias"] = mat(C, 3 * C, 0.3), vec(3 * C)
    p[h + "attn.c_proj.weight"], p[h + "attn.c_proj.bias"] = mat(C, C, 0.3), vec(C)
    p[h + "ln_2.weight"], p[h + "ln_2.bias"] = vec(C, 1.0, 0.1), vec(C)
    p[h + "mlp.c_fc.weight"], p[h + "mlp.c_fc.bias"] = mat(C, 4 * C, 0.3), vec(4 * C)
    p[h + "mlp.c_proj.weight"], p[h + "mlp.c_proj.bias"] = mat(4 * C, C, 0.3), vec(C)
p["ln_f.weight"], p["ln_f.bias"] = vec(C, 1.0, 0.1), vec(C)


def flat(x):
    return [v for row in x for v in row] if x and isinstance(x[0], list) else x


def shape(x):
    return [len(x), len(x[0])] if isinstance(x[0], list) else [len(x)]


# --- Hugging Face model.safetensors -------------------------------------------------------------
tensors = [("transformer." + k, shape(v), flat(v)) for k, v in p.items()]
mask = [1.0 if c <= r else 0.0 for r in range(T) for c in range(T)]
tensors += [(f"transformer.h.{i}.attn.bias", [1, 1, T, T], mask) for i in range(L)]
tensors.append(("lm_head.weight", [V, C], flat(p["wte.weight"])))  # tied: the same values
header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
for name, shp, data in tensors:
    blob = struct.pack(f"<{len(data)}f", *data)
    header[name] = {"dtype": "F32", "shape": shp, "data_offsets": [off, off + len(blob)]}
    blobs.append(blob)
    off += len(blob)
hj = json.dumps(header).encode()
hj += b" " * (-len(hj) % 8)
os.makedirs(f"{out}/hf", exist_ok=True)
with open(f"{out}/hf/model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(hj)) + hj + b"".join(blobs))
cfg = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_layer": L, "n_head": NH,
       "n_embd": C, "n_positions": T, "n_ctx": T, "vocab_size": V, "activation_function": "gelu_new",
       "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True}
json.dump(cfg, open(f"{out}/hf/config.json", "w"), indent=1)
for a, b in (("encoder.json", "vocab.json"), ("vocab.bpe", "merges.txt")):
    shutil.copy(f"{tokdir}/{a}", f"{out}/hf/{b}")

# --- llm.c gpt2_*.bin, version 3 ----------------------------------------------------------------
hdr = [0] * 256
hdr[:8] = [20240326, 3, T, V, L, NH, C, VP]
wte = flat(p["wte.weight"]) + [rng.gauss(0.0, 1.0) for _ in range((VP - V) * C)]  # padding rows: junk, unused
order = [wte, flat(p["wpe.weight"])]
per_layer = [("ln_1.weight", 0), ("ln_1.bias", 0), ("attn.c_attn.weight", 1), ("attn.c_attn.bias", 0),
             ("attn.c_proj.weight", 1), ("attn.c_proj.bias", 0), ("ln_2.weight", 0), ("ln_2.bias", 0),
             ("mlp.c_fc.weight", 1), ("mlp.c_fc.bias", 0), ("mlp.c_proj.weight", 1), ("mlp.c_proj.bias", 0)]
for name, tr in per_layer:  # llm.c stores each kind for all layers together, matrices as [out, in]
    for i in range(L):
        x = p[f"h.{i}.{name}"]
        order.append(flat(transpose(x)) if tr else x)
order += [p["ln_f.weight"], p["ln_f.bias"]]
with open(f"{out}/gpt2_tiny.bin", "wb") as f:
    f.write(struct.pack("<256i", *hdr))
    for x in order:
        f.write(struct.pack(f"<{len(x)}f", *x))
