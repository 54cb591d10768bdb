#!/usr/bin/env python3
"""torch_cuda_step.py - the PyTorch baseline for `lmscope bench --device cuda`: the same GPT-2
training step (forward + backward + AdamW) on random tokens on one NVIDIA GPU, with PyTorch's best
settings, timed the same way (median step after warm-up, the device synchronised per step).

    python3 bench/torch_cuda_step.py --layers 12 --heads 12 --dim 768 --vocab 50257 --batch 16 \
        --ctx 1024 --steps 10 --warmup 3 [--precision bf16|tf32|fp32] [--compile]

Prints ONE JSON line: tokens_per_s, step_s_median, flops_per_token (lmscope's exact count:
3 * (L (24 C^2 + 2 C (T+1)) + 2 C V), matrix products only), tflops, the GPU's name, the peak
used for MFU (dense bf16 / tf32 / fp32 of H100 and H200 SXM, or --peak-tflops) and mfu.

The model is bench/torch_step.py's GPT-2 (the CPU baseline's: same blocks, initialisation and
tied output layer) with F.scaled_dot_product_attention(is_causal=True) for attention; cross-entropy;
AdamW(fused=True), betas (0.9, 0.95), weight decay 0.1 on 2-D tensors, lr 3e-4. Settings: bf16 autocast (weights
and optimizer in fp32) by default, TF32 allowed for fp32 matmuls with --precision tf32,
torch.compile with --compile (the caller bounds its time: tools/gpu_check.sh runs it under
`timeout` and falls back to eager). Exits 3 when torch has no CUDA device.
Leaves out: dropout (0 in lmscope), multiple GPUs, gradient accumulation.
"""
import argparse
import json
import statistics
import sys
import time

import torch

from torch_step import GPT  # bench/ is this script's directory, first on sys.path


PEAKS = {  # dense TFLOP/s, SXM parts
    "H200": {"bf16": 989.4, "tf32": 494.7, "fp32": 66.9},
    "H100": {"bf16": 989.4, "tf32": 494.7, "fp32": 66.9},
}


def main():
    ap = argparse.ArgumentParser()
    for k, v in [("layers", 12), ("heads", 12), ("dim", 768), ("vocab", 50257), ("batch", 16), ("ctx", 1024),
                 ("steps", 10), ("warmup", 3)]:
        ap.add_argument("--" + k, type=int, default=v)
    ap.add_argument("--precision", choices=["bf16", "tf32", "fp32"], default="bf16")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--peak-tflops", type=float, default=0.0)
    a = ap.parse_args()
    if not torch.cuda.is_available():
        print("torch_cuda_step: torch %s has no CUDA device" % torch.__version__, file=sys.stderr)
        sys.exit(3)
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = a.precision != "fp32"
    torch.backends.cudnn.allow_tf32 = a.precision != "fp32"
    torch.manual_seed(1)
    model = GPT(a.layers, a.heads, a.dim, a.vocab, a.ctx, sdpa=True).to(dev)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=3e-4, betas=(0.9, 0.95), eps=1e-8, fused=True)
    step_model = torch.compile(model) if a.compile else model
    times, losses = [], []
    for s in range(a.warmup + a.steps):
        x = torch.randint(0, a.vocab, (a.batch, a.ctx), device=dev)
        y = torch.randint(0, a.vocab, (a.batch, a.ctx), device=dev)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.precision == "bf16"):
            loss = step_model(x, y)
        loss.backward()
        opt.step()
        torch.cuda.synchronize()
        if s >= a.warmup:
            times.append(time.perf_counter() - t0)
        losses.append(loss.item())
    med = statistics.median(times)
    C, L, V, T = a.dim, a.layers, a.vocab, a.ctx
    fpt = 3.0 * (L * (24.0 * C * C + 2.0 * C * (T + 1.0)) + 2.0 * C * V)
    tps = a.batch * a.ctx / med
    name = torch.cuda.get_device_name(0)
    peak = a.peak_tflops or next((p[a.precision] for k, p in PEAKS.items() if k in name), 0.0)
    print(json.dumps({"mode": "train", "impl": "pytorch", "torch": torch.__version__, "gpu": name,
                      "precision": a.precision, "compile": a.compile, "layers": L, "heads": a.heads, "dim": C,
                      "vocab": V, "batch": a.batch, "ctx": T, "steps": a.steps, "warmup": a.warmup,
                      "step_s_median": round(med, 5), "tokens_per_s": round(tps, 1), "flops_per_token": fpt,
                      "tflops": round(fpt * tps / 1e12, 2), "peak_tflops": peak,
                      "mfu": round(fpt * tps / 1e12 / peak, 4) if peak else None,
                      "loss_first": round(losses[0], 4), "loss_last": round(losses[-1], 4),
                      "max_memory_bytes": torch.cuda.max_memory_allocated()}))


if __name__ == "__main__":
    main()
