#!/usr/bin/python3
"""gen_torch_fixture.py — writes tests/fixtures/gpt_torch.bin, the PyTorch truth for test_model.

An independent, minimal GPT-2 written here with plain tensor operations (no Hugging Face
transformers, no nn.Linear): token + position embedding, pre-LayerNorm causal self-attention and
tanh-GELU MLP blocks, final LayerNorm, output layer tied to wte, mean cross-entropy over targets
>= 0 (ignore_index = -1). Computed in float64 as the truth; stored as float32.

Run with Debian's torch:  /usr/bin/python3 tools/gen_torch_fixture.py [out.bin]

Parameters are drawn here (not with lmscope's RNG) with larger-than-GPT-2 spreads and random
LayerNorm weights and biases, so that attention is far from uniform, GELU is far from linear and
every parameter's gradient path is exercised. One target is -1 (ignored).

File layout (little-endian), version 1:
  offset 0   char[8]  magic "LMSGPTFX"
  offset 8   uint32   version = 1
  offset 12  int32[8] n_layer, n_head, n_embd, n_ctx, vocab_size, B, T, steps
  offset 44  float32[6] lr, beta1, beta2, eps, weight_decay, clip (max global grad norm)
  offset 68  int64    num_params P
  offset 76  zero padding up to offset 128
  then, back to back:
  int32[B*T]     inputs
  int32[B*T]     targets (-1 = ignored)
  float32[P]     initial parameters, the tensors of lmscope's table (gpt.h) concatenated in
                 table order with Hugging Face layouts (wte [V,C], wpe [n_ctx,C], c_attn.weight
                 [C,3C], ...)
  float32[B*T*V] logits
  float32[1]     mean loss
  float32[P]     gradient of the mean loss, same layout as the parameters
  float32[steps] global gradient norm before clipping at each optimizer step
  float32[P]     parameters after `steps` steps of: forward, backward, clip_grad_norm_(clip),
                 torch.optim.AdamW (decay on 2-D tensors only), all on the same batch
"""
import math
import struct
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

L, NH, C, NCTX, V, B, T = 2, 2, 32, 16, 67, 2, 11
STEPS, LR, BETAS, EPS, WD, CLIP = 3, 1e-3, (0.9, 0.95), 1e-8, 0.1, 1.0


def table(L, C, V, NCTX):
    """(name, shape) in lmscope's tensor-table order."""
    t = [("wte.weight", (V, C)), ("wpe.weight", (NCTX, C))]
    for i in range(L):
        p = f"h.{i}."
        t += [(p + "ln_1.weight", (C,)), (p + "ln_1.bias", (C,)),
              (p + "attn.c_attn.weight", (C, 3 * C)), (p + "attn.c_attn.bias", (3 * C,)),
              (p + "attn.c_proj.weight", (C, C)), (p + "attn.c_proj.bias", (C,)),
              (p + "ln_2.weight", (C,)), (p + "ln_2.bias", (C,)),
              (p + "mlp.c_fc.weight", (C, 4 * C)), (p + "mlp.c_fc.bias", (4 * C,)),
              (p + "mlp.c_proj.weight", (4 * C, C)), (p + "mlp.c_proj.bias", (C,))]
    t += [("ln_f.weight", (C,)), ("ln_f.bias", (C,))]
    return t


def init_params(gen):
    ps = {}
    for name, shape in table(L, C, V, NCTX):
        if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "ln_f.weight":
            x = 1.0 + 0.2 * torch.randn(shape, generator=gen)
        elif len(shape) == 1:
            x = 0.05 * torch.randn(shape, generator=gen)
        elif name in ("wte.weight", "wpe.weight"):
            x = 0.3 * torch.randn(shape, generator=gen)
        else:
            x = 0.15 * torch.randn(shape, generator=gen)
        ps[name] = x
    # Round the truth's starting point to float32, exactly what the C side loads.
    return {k: v.float().double().requires_grad_(True) for k, v in ps.items()}


def layernorm(x, w, b):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + 1e-5) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(p, idx):
    Bn, Tn = idx.shape
    hs = C // NH
    x = p["wte.weight"][idx] + p["wpe.weight"][:Tn]
    mask = torch.tril(torch.ones(Tn, Tn, dtype=torch.bool))
    for i in range(L):
        q_ = f"h.{i}."
        h = layernorm(x, p[q_ + "ln_1.weight"], p[q_ + "ln_1.bias"])
        qkv = h @ p[q_ + "attn.c_attn.weight"] + p[q_ + "attn.c_attn.bias"]
        q, k, v = qkv.split(C, dim=-1)
        q = q.view(Bn, Tn, NH, hs).transpose(1, 2)
        k = k.view(Bn, Tn, NH, hs).transpose(1, 2)
        v = v.view(Bn, Tn, NH, hs).transpose(1, 2)
        s = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        s = s.masked_fill(~mask, float("-inf"))
        a = torch.softmax(s, dim=-1)
        y = (a @ v).transpose(1, 2).reshape(Bn, Tn, C)
        x = x + y @ p[q_ + "attn.c_proj.weight"] + p[q_ + "attn.c_proj.bias"]
        h = layernorm(x, p[q_ + "ln_2.weight"], p[q_ + "ln_2.bias"])
        f = gelu_tanh(h @ p[q_ + "mlp.c_fc.weight"] + p[q_ + "mlp.c_fc.bias"])
        x = x + f @ p[q_ + "mlp.c_proj.weight"] + p[q_ + "mlp.c_proj.bias"]
    x = layernorm(x, p["ln_f.weight"], p["ln_f.bias"])
    return x @ p["wte.weight"].t()


def loss_of(logits, tgt):
    return torch.nn.functional.cross_entropy(logits.reshape(-1, V), tgt.reshape(-1), ignore_index=-1)


def flat(tensors):
    return np.concatenate([t.detach().reshape(-1).numpy().astype(np.float32) for t in tensors])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/gpt_torch.bin"
    gen = torch.Generator().manual_seed(20240520)
    p = init_params(gen)
    names = [n for n, _ in table(L, C, V, NCTX)]
    idx = torch.randint(0, V, (B, T + 1), generator=gen)
    inputs, targets = idx[:, :T].contiguous(), idx[:, 1:].contiguous()
    targets[0, 5] = -1  # one ignored position
    params0 = flat(p[n] for n in names)

    logits = forward(p, inputs)
    loss = loss_of(logits, targets)
    loss.backward()
    grads = flat(p[n].grad for n in names)
    logits_np = logits.detach().numpy().astype(np.float32).reshape(-1)

    decay = [p[n] for n in names if p[n].dim() == 2]
    nodecay = [p[n] for n in names if p[n].dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD}, {"params": nodecay, "weight_decay": 0.0}],
                            lr=LR, betas=BETAS, eps=EPS)
    norms = []
    for step in range(STEPS):
        for n in names:
            p[n].grad = None
        l = loss_of(forward(p, inputs), targets)
        l.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_([p[n] for n in names], CLIP)))
        opt.step()
    params3 = flat(p[n] for n in names)

    P = params0.size
    hdr = b"LMSGPTFX" + struct.pack("<I8i6fq", 1, L, NH, C, NCTX, V, B, T, STEPS, LR, BETAS[0], BETAS[1], EPS,
                                     WD, CLIP, P)
    hdr += b"\0" * (128 - len(hdr))
    with open(out, "wb") as f:
        f.write(hdr)
        f.write(inputs.numpy().astype("<i4").tobytes())
        f.write(targets.numpy().astype("<i4").tobytes())
        f.write(params0.astype("<f4").tobytes())
        f.write(logits_np.astype("<f4").tobytes())
        f.write(np.array([loss.item()], dtype="<f4").tobytes())
        f.write(grads.astype("<f4").tobytes())
        f.write(np.array(norms, dtype="<f4").tobytes())
        f.write(params3.astype("<f4").tobytes())
    print(f"wrote {out}: P={P} loss={loss.item():.6f} grad norms={norms}")


if __name__ == "__main__":
    main()
