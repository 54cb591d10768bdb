#!/usr/bin/env python3
"""torch_step.py - the PyTorch baseline for `lmscope bench`: the same GPT-2 training step
(forward + backward + AdamW, fp32) on random tokens, timed the same way (median step).
--precision bf16 runs the forward and the loss under torch.autocast('cpu', dtype=torch.bfloat16)
(PyTorch's own mixed precision: bf16 matrix products, fp32 weights and optimizer), the baseline for
`lmscope bench --precision bf16`.

    ATEN_CPU_CAPABILITY=avx512 OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/torch_step.py \
        --layers 4 --heads 4 --dim 256 --vocab 8192 --batch 16 --ctx 256 --steps 10 --warmup 2

Prints ONE JSON line (tokens_per_s, step_s_median, peak_rss_bytes, ...).

The model is GPT-2 as Hugging Face / nanoGPT write it: token + position embeddings, pre-LN blocks
(LayerNorm, fused qkv Linear, causal softmax attention, projection; LayerNorm, 4C MLP with tanh
GELU), final LayerNorm, output layer tied to the token embedding; cross-entropy; AdamW with
betas (0.9, 0.95), weight decay 0.1 on 2-D tensors, lr 3e-4. Tuning: torch.set_num_threads,
zero_grad(set_to_none=True), AdamW's foreach implementation, no autograd anomaly checks.
Torch 1.13 has no fused scaled_dot_product_attention, so attention is the explicit
q·kᵀ / mask / softmax / ·v sequence (what nanoGPT does on such versions); GPT(..., sdpa=True)
uses the fused one instead (bench/torch_cuda_step.py imports this model).
Leaves out: dropout (0 in lmscope), fp16 and gradient scaling (bf16 needs none), torch.compile
(not in 1.13).
"""
import argparse
import json
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, NH, T, sdpa=False):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C)
        self.c_fc = nn.Linear(C, 4 * C)
        self.mlp_proj = nn.Linear(4 * C, C)
        self.NH = NH
        self.sdpa = sdpa  # F.scaled_dot_product_attention (torch >= 2.0; bench/torch_cuda_step.py)
        if not sdpa:
            self.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)).view(1, 1, T, T))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        hs = C // self.NH
        q = q.view(B, T, self.NH, hs).transpose(1, 2)
        k = k.view(B, T, self.NH, hs).transpose(1, 2)
        v = v.view(B, T, self.NH, hs).transpose(1, 2)
        if self.sdpa:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
            att = att.masked_fill(~self.mask[:, :, :T, :T], float("-inf"))
            y = F.softmax(att, dim=-1) @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.c_proj(y)
        x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x


class GPT(nn.Module):
    def __init__(self, L, NH, C, V, T, sdpa=False):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.h = nn.ModuleList([Block(C, NH, T, sdpa) for _ in range(L)])
        self.ln_f = nn.LayerNorm(C)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * L) if name.endswith("c_proj.weight") or name.endswith("mlp_proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)
            elif "ln" not in name:
                nn.init.zeros_(p)

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))
        for blk in self.h:
            x = blk(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name, default in [("layers", 4), ("heads", 4), ("dim", 256), ("vocab", 8192), ("batch", 16),
                          ("ctx", 256), ("steps", 10), ("warmup", 2), ("threads", 2), ("seed", 1)]:
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = GPT(a.layers, a.heads, a.dim, a.vocab, a.ctx)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=3e-4, betas=(0.9, 0.95), eps=1e-8, foreach=True)
    nparams = sum(p.numel() for p in model.parameters())
    times, losses = [], []
    for s in range(a.steps + a.warmup):
        x = torch.randint(0, a.vocab, (a.batch, a.ctx))
        y = torch.randint(0, a.vocab, (a.batch, a.ctx))
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        if a.precision == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = model(x, y)
        else:
            loss = model(x, y)
        loss.backward()
        opt.step()
        t1 = time.perf_counter()
        losses.append(loss.item())
        if s >= a.warmup:
            times.append(t1 - t0)
    med = statistics.median(times)
    print(json.dumps({
        "blas_core": blas_core(),
        "mode": "train", "impl": "pytorch", "torch": torch.__version__, "precision": a.precision,
        "capability": torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else None,
        "layers": a.layers, "heads": a.heads, "dim": a.dim, "vocab": a.vocab, "batch": a.batch, "ctx": a.ctx,
        "threads": torch.get_num_threads(), "params": nparams, "steps": a.steps,
        "step_s_median": round(med, 5), "step_s_min": round(min(times), 5), "step_s_max": round(max(times), 5),
        "tokens_per_s": round(a.batch * a.ctx / med, 1),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "loss_first": round(losses[0], 4), "loss_last": round(losses[-1], 4)}))


def blas_core():
    """The OpenBLAS kernel this process loaded (PyTorch links libblas.so.3, here OpenBLAS), as
    lmscope bench reports its own; None when the BLAS in memory is not OpenBLAS."""
    import ctypes
    with open("/proc/self/maps") as f:
        libs = sorted({l.split()[-1] for l in f if "blas" in l and l.rstrip().endswith((".so", ".so.0", ".so.3"))})
    for lib in libs:
        try:
            fn = ctypes.CDLL(lib).openblas_get_corename
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_char_p
        return fn().decode()
    return None


if __name__ == "__main__":
    main()
