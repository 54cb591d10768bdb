#!/usr/bin/env python3
"""report_db.py — write a synthetic sweep results.db (the sweep runner's schema, version 1) for the
report tests. python3's standard library only.

    python3 tests/cli/report_db.py DIR [--schema-version V] [--no-kind] [--no-acc-bytes]

The sweep: 6 sizes (25k..4.7M non-embedding parameters) at 9 compute budgets (3e11..3e15 FLOPs, the
sizes with 0.5..1000 tokens per parameter; isoFLOP groups with interior minima), losses
from a known L(N, D) = 1.8 + 60/N^0.3 + 150/D^0.3 times 1 + 0.3% noise (seeded), one failed run and one pending run; metrics,
per-domain losses (4 domains), evaluations of 6 suites built to have clear shapes (flat, smooth,
emergent, inverse, and the induction and quote-repetition suites), samples (one with '</script>'
and HTML in it, to test escaping) and per-token losses for the smallest and largest model.
Expected shape labels are written to DIR/expected_shapes.json for the test to compare. runs.kind (the
sweep runner's backward-compatible addition: 'grid' or 'lr_sweep') is written with two learning-rate
variants of the smallest model that have a lower loss than any grid run at their compute (the fits must
leave them out); --no-kind writes the first contract's table without the column and without them.
evals.acc_bytes, acc_bytes_se (the second addition: multiple choice normalised by bytes, while acc_norm
is by characters) are written too, acc_norm a little above acc_bytes for the mc suites; --no-acc-bytes
writes the evals table without them, as a database from before the addition.
"""
import json, math, os, random, sqlite3, sys

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, run_dir TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending','running','done','failed')), error TEXT,
  parent TEXT, n_layer INTEGER, n_head INTEGER, n_embd INTEGER, n_ctx INTEGER, vocab_size INTEGER,
  params INTEGER, params_nonembed INTEGER, batch INTEGER, accum INTEGER, steps INTEGER, lr REAL, schedule TEXT,
  tokens REAL, flops REAL, final_train_loss REAL, val_loss REAL, val_bpb REAL,
  elapsed_s REAL, started_utc TEXT, finished_utc TEXT);
CREATE TABLE metrics (run_id INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL,
  tokens REAL, flops REAL, loss REAL, val_loss REAL, lr REAL, PRIMARY KEY (run_id, step));
CREATE TABLE domain_losses (run_id INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL,
  domain TEXT NOT NULL, loss REAL, bpb REAL, tokens INTEGER, PRIMARY KEY (run_id, step, domain));
CREATE TABLE evals (run_id INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL,
  tokens REAL, flops REAL, suite TEXT NOT NULL, kind TEXT, n INTEGER, chance REAL,
  acc REAL, acc_se REAL, acc_norm REAL, acc_norm_se REAL, logp REAL, logp_se REAL,
  prob REAL, prob_se REAL, edit REAL, edit_se REAL, PRIMARY KEY (run_id, step, suite));
CREATE TABLE samples (run_id INTEGER NOT NULL REFERENCES runs(id), prompt TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE token_losses (run_id INTEGER NOT NULL REFERENCES runs(id), text_id INTEGER NOT NULL,
  pos INTEGER NOT NULL, token TEXT NOT NULL, logp REAL, rank INTEGER, PRIMARY KEY (run_id, text_id, pos));
"""

SHAPES = [  # (width, layers)
    (32, 2), (48, 2), (64, 3), (96, 4), (160, 4), (256, 6)]
BUDGETS = [3e11, 1e12, 3e12, 1e13, 3e13, 1e14, 3e14, 1e15, 3e15]  # FLOPs, half-decade steps
DOMAINS = {"books": 0.10, "bible": -0.25, "speeches": 0.05, "dictionary": 0.30}


def law(N, D):
    return 1.8 + 60 / N ** 0.3 + 150 / D ** 0.3


def main():
    out = sys.argv[1]
    ver = sys.argv[sys.argv.index("--schema-version") + 1] if "--schema-version" in sys.argv else "1"
    kind = "--no-kind" not in sys.argv
    acc_bytes = "--no-acc-bytes" not in sys.argv
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "results.db")
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    if kind:
        db.execute("ALTER TABLE runs ADD COLUMN kind TEXT")
    if acc_bytes:
        db.execute("ALTER TABLE evals ADD COLUMN acc_bytes REAL")
        db.execute("ALTER TABLE evals ADD COLUMN acc_bytes_se REAL")
    meta = {"schema_version": ver, "lmscope_version": "0.1.0", "created_utc": "2026-12-01T10:00:00Z",
            "grid_json": json.dumps({"preset": "synthetic"}), "corpus": "data/corpus", "tokenizer_hash": "abc123"}
    db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())

    runs = []
    rid = 0
    rng = random.Random(7)
    for w, l in SHAPES:
        N = 12 * l * w * w
        for C in BUDGETS:
            D = C / (6.3 * N)
            if not 0.5 <= D / N <= 1000:
                continue
            rid += 1
            runs.append(dict(id=rid, name=f"L{l}-C{w}-{C:.0e}".replace("+", ""), N=N, D=D, C=C, L=law(N, D) * (1 + 0.003 * rng.gauss(0, 1)), l=l, w=w))
    runs_done = list(runs)
    for r in runs:
        steps = 10
        db.execute("INSERT INTO runs (id, name, run_dir, status, parent, n_layer, n_head, n_embd, n_ctx, vocab_size, "
                   "params, params_nonembed, batch, accum, steps, lr, schedule, tokens, flops, final_train_loss, "
                   "val_loss, val_bpb, elapsed_s, started_utc, finished_utc) VALUES "
                   "(?, ?, ?, 'done', NULL, ?, 4, ?, 128, 4096, ?, ?, 16, 1, ?, ?, 'cosine', ?, ?, ?, ?, ?, 60, "
                   "'2026-12-01T10:00:00Z', '2026-12-01T10:01:00Z')",
                   (r["id"], r["name"], "runs/" + r["name"], r["l"], r["w"], r["N"] + 4096 * r["w"], r["N"], steps,
                    3e-3, r["D"], r["C"], r["L"] - 0.02, r["L"], r["L"] / math.log(2) / 4.2))
        for s in range(1, steps + 1):
            f = s / steps
            loss = r["L"] + 3.0 * (1 - f) ** 2
            db.execute("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (r["id"], s * 100, r["D"] * f, r["C"] * f, loss + 0.02, loss if s % 5 == 0 else None,
                        3e-3 * (1 - f)))
        for d, off in DOMAINS.items():
            db.execute("INSERT INTO domain_losses VALUES (?, ?, ?, ?, ?, ?)",
                       (r["id"], steps * 100, d, r["L"] + off, (r["L"] + off) / math.log(2) / 4.2, 5000))
    if kind:
        db.execute("UPDATE runs SET kind = 'grid'")
        small = runs_done[0]
        for j, (lr, f) in enumerate(((1e-3, 0.8), (1e-2, 0.85))):  # better than the grid: must not be fitted
            db.execute("INSERT INTO runs (id, name, run_dir, status, n_layer, n_embd, params_nonembed, steps, lr, tokens, "
                       "flops, val_loss, kind) VALUES (?, ?, ?, 'done', ?, ?, ?, 10, ?, ?, ?, ?, 'lr_sweep')",
                       (200 + j, f"{small['name']}-lr{lr:g}", "runs/lr", small["l"], small["w"], small["N"], lr, small["D"],
                        small["C"], small["L"] * f))
            for d in DOMAINS:
                db.execute("INSERT INTO domain_losses VALUES (?, 1000, ?, 0.5, 0.2, 5000)", (200 + j, d))
    # one-layer controls at the budgets of the 3-layer shape: word statistics only, no copying (gain ~0)
    if kind:
        for j, r in enumerate(q for q in runs_done if q["l"] == 3):
            cid = 300 + j
            db.execute("INSERT INTO runs (id, name, run_dir, status, n_layer, n_embd, params_nonembed, steps, lr, tokens, "
                       "flops, val_loss, kind) VALUES (?, ?, ?, 'done', 1, ?, ?, 10, 3e-3, ?, ?, ?, 'control')",
                       (cid, f"L1-C{r['w']}-ctl-{j}", "runs/ctl", r["w"], 12 * r["w"] * r["w"], r["D"], r["C"] / 3, r["L"] + 0.1))
            for name, lp in (("copy-first", -6.0), ("copy-second", -5.9)):
                db.execute("INSERT INTO evals (run_id, step, tokens, flops, suite, kind, n, chance, acc, acc_se, logp, "
                           "logp_se) VALUES (?, 1000, ?, ?, ?, 'seq', 200, 0, 0.02, 0.01, ?, 0.05)",
                           (cid, r["D"], r["C"] / 3, name, lp))
    # a failed and a pending run: shown in the runs table, not fitted
    db.execute("INSERT INTO runs (id, name, run_dir, status, error, n_layer, n_embd, params_nonembed) VALUES "
               "(100, 'L8-C384-x4', 'runs/L8-C384-x4', 'failed', 'out of memory: 9.1 GiB needed <estimate>', 8, 384, ?)",
               (12 * 8 * 384 * 384,))
    db.execute("INSERT INTO runs (id, name, run_dir, status, n_layer, n_embd, params_nonembed) VALUES "
               "(101, 'L8-C384-x12', 'runs/L8-C384-x12', 'pending', 8, 384, ?)", (12 * 8 * 384 * 384,))

    # suites with clear shapes over the final evaluations (x = FLOPs)
    lc = [math.log(r["C"]) for r in runs_done]
    lo, hi = min(lc), max(lc)
    top_cut = sorted(lc)[-4]  # the four largest-compute runs jump

    def frac(r):
        return (math.log(r["C"]) - lo) / (hi - lo)

    suites = {
        # name: (kind, chance, acc(r), logp(r))
        "capitals": ("mc", 0.25, lambda r: 0.25, lambda r: -3.0 + 1.0 * frac(r)),
        "grammar-agreement": ("mc", 0.5, lambda r: 0.5 + 0.35 * frac(r), lambda r: -2.0 + 0.8 * frac(r)),
        "arithmetic-mc": ("mc", 0.25, lambda r: 0.85 if math.log(r["C"]) >= top_cut else 0.25,
                          lambda r: -2.5 + 0.6 * frac(r)),
        "quote-repetition": ("mc", 0.5, lambda r: 0.9 - 0.4 * frac(r), lambda r: -1.0 - 1.0 * frac(r)),
        "induction-words": ("seq", 0.0, lambda r: 0.7 if math.log(r["C"]) >= top_cut else 0.02,
                            lambda r: -0.8 if math.log(r["C"]) >= top_cut else -7.0),
        "sentiment": ("mc", 0.5, lambda r: 0.5, lambda r: -0.69),
        # controlled tasks (data/synth.h): exact match jumps while log-prob, edit distance and the per-digit
        # twin improve smoothly (the mirage); copying gains over the first copy; copy-altered dips, then recovers
        "add-3d": ("gen", 0.0, lambda r: 0.9 if math.log(r["C"]) >= top_cut else 0.0, lambda r: -6.0 + 4.0 * frac(r)),
        "add-3d-digits": ("seq", 0.0, lambda r: 0.3 + 0.6 * frac(r), lambda r: -2.0 + 1.5 * frac(r)),
        "copy-first": ("seq", 0.0, lambda r: 0.02, lambda r: -6.0),
        "copy-second": ("seq", 0.0, lambda r: 0.02 + 0.9 * frac(r), lambda r: -6.0 + 5.0 * frac(r)),
        "copy-altered": ("mc", 0.5, lambda r: 0.5 - 2.4 * frac(r) * (0.6 - frac(r)) if frac(r) < 0.6 else 0.5 + 1.0 * (frac(r) - 0.6),
                         lambda r: -1.0 - 1.0 * frac(r)),
    }
    expected = {"capitals": ["flat", "smooth"], "grammar-agreement": ["smooth", "smooth"],
                "arithmetic-mc": ["emergent", "smooth"], "quote-repetition": ["inverse", "inverse"],
                "induction-words": ["emergent", "emergent"], "sentiment": ["flat", "flat"],
                "add-3d": ["emergent", "smooth"], "add-3d-digits": ["smooth", "smooth"], "copy-first": ["flat", "flat"],
                "copy-second": ["smooth", "smooth"], "copy-altered": ["u-shaped", "inverse"]}
    largest = max(runs_done, key=lambda r: r["C"])
    for r in runs_done:
        for name, (kind, chance, acc, logp) in suites.items():
            db.execute("INSERT INTO evals (run_id, step, tokens, flops, suite, kind, n, chance, acc, acc_se, logp, "
                       "logp_se, prob, prob_se) VALUES (?, 1000, ?, ?, ?, ?, 200, ?, ?, 0.02, ?, 0.05, ?, 0.02)",
                       (r["id"], r["D"], r["C"], name, kind, chance, acc(r), logp(r), min(1.0, acc(r) + 0.05)))
            if kind == "gen":  # the token edit distance falls smoothly; gen has no prob
                db.execute("UPDATE evals SET prob = NULL, prob_se = NULL, edit = ?, edit_se = 0.05 WHERE run_id = ? AND "
                           "step = 1000 AND suite = ?", (3.0 - 2.5 * frac(r), r["id"], name))
            if kind == "seq":
                db.execute("UPDATE evals SET prob = NULL, prob_se = NULL WHERE run_id = ? AND step = 1000 AND suite = ?",
                           (r["id"], name))
            if kind == "mc":
                db.execute("UPDATE evals SET acc_norm = ?, acc_norm_se = 0.02 WHERE run_id = ? AND step = 1000 AND suite = ?",
                           (min(1.0, acc(r) + 0.02), r["id"], name))
                if acc_bytes:
                    db.execute("UPDATE evals SET acc_bytes = ?, acc_bytes_se = 0.02 WHERE run_id = ? AND step = 1000 AND suite = ?",
                               (min(1.0, acc(r) + 0.01), r["id"], name))
            if r is largest:  # log-spaced evaluations during the largest run
                for s, f in ((100, 0.1), (300, 0.3)):
                    db.execute("INSERT INTO evals (run_id, step, tokens, flops, suite, kind, n, chance, acc, acc_se, "
                               "logp, logp_se) VALUES (?, ?, ?, ?, ?, ?, 200, ?, ?, 0.02, ?, 0.05)",
                               (r["id"], s, r["D"] * f, r["C"] * f, name, kind, chance, chance + 0.01, logp(r) - 1))
    for i, r in enumerate(runs_done):
        if r is max((q for q in runs_done if q["N"] == r["N"]), key=lambda q: q["C"]):  # one per size
            db.execute("INSERT INTO samples VALUES (?, ?, ?)",
                       (r["id"], "Once upon a time", f" there was a model of {r['N']} parameters. <b>bold</b> "
                        "</script><script>alert(1)</script> & it said \"hello\"."))
    small, large = runs_done[0], runs_done[-1]
    words = "The Lord is my shepherd ; I shall not want . He maketh me to lie down in green pastures".split()
    for r, scale in ((small, 1.0), (large, 0.35)):
        for p, wd in enumerate(words):
            lp = -scale * (1.5 + 4.0 * ((p * 7) % 5) / 4)
            db.execute("INSERT INTO token_losses VALUES (?, 0, ?, ?, ?, ?)",
                       (r["id"], p, (" " if p else "") + wd, lp, 1 + (p * 7) % 5))
    db.commit()
    db.close()
    with open(os.path.join(out, "expected_shapes.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
