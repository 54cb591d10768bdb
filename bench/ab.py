#!/usr/bin/env python3
"""ab.py — interleaved A/B runs of `lmscope bench` training steps: on a shared machine two
configurations measured one after the other see different neighbours, so each round runs every
configuration once, in turn, and the medians over rounds are compared. Not a test.

  bench/ab.py SHAPE ROUNDS SPEC [SPEC ...]
  SPEC = BINARY:PRECISION[:VAR=value,VAR=value]
  bench/ab.py a 5 build/lmscope:fp32 build/lmscope:bf16
  bench/ab.py a 3 build/lmscope:bf16:LMS_NO_WPACK=1 build/lmscope:bf16

Shapes as bench/run.sh (a-e), 15 timed steps for a and b. Every run has OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset and OMP_WAIT_POLICY=PASSIVE, like bench/run.sh. Prints each run's median
step, forward, backward and optimizer ms and tokens/s, then per SPEC the medians over rounds.
"""
import json, os, statistics, subprocess, sys

SHAPES = {
    "a": "--layers 12 --heads 12 --dim 768 --vocab 50257 --batch 4 --ctx 64 --steps 15 --warmup 2",
    "b": "--layers 6 --heads 6 --dim 384 --vocab 50257 --batch 8 --ctx 256 --steps 15 --warmup 2",
    "c": "--layers 4 --heads 4 --dim 256 --vocab 8192 --batch 16 --ctx 256 --steps 10 --warmup 2",
    "d": "--layers 2 --heads 2 --dim 64 --vocab 4096 --batch 32 --ctx 128 --steps 20 --warmup 3",
    "e": "--layers 4 --heads 4 --dim 128 --vocab 4096 --batch 16 --ctx 128 --steps 20 --warmup 3",
}

def main():
    if len(sys.argv) < 4 or sys.argv[1] not in SHAPES:
        sys.exit(__doc__)
    shape, rounds, specs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    base = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    base["OMP_WAIT_POLICY"] = "PASSIVE"
    res = {s: [] for s in specs}
    for _ in range(rounds):
        for s in specs:
            binary, prec, *rest = s.split(":")
            env = dict(base)
            for kv in (rest[0].split(",") if rest else []):
                k, v = kv.split("=", 1)
                env[k] = v
            out = subprocess.run([binary, "bench", *SHAPES[shape].split(), "--ceiling-size", "0",
                                  "--precision", prec], env=env, capture_output=True, text=True)
            if out.returncode:
                sys.exit(f"ab.py: {s} failed: {out.stderr.strip()}")
            d = json.loads(out.stdout)
            row = [d["step_s_median"] * 1e3, d["forward_s"] * 1e3, d["backward_s"] * 1e3,
                   d["optimizer_s"] * 1e3, d["tokens_per_s"]]
            res[s].append(row)
            print(s, "step %.1f fwd %.1f bwd %.1f opt %.1f ms, %.1f tokens/s" % tuple(row), flush=True)
    for s in specs:
        med = [statistics.median(r[i] for r in res[s]) for i in range(5)]
        print(f"{shape} {s}: median step {med[0]:.1f} ms (forward {med[1]:.1f}, backward {med[2]:.1f}, "
              f"optimizer {med[3]:.1f}), {med[4]:.1f} tokens/s; per round {[round(r[4], 1) for r in res[s]]}")

if __name__ == "__main__":
    main()
