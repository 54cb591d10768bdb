"""common.py -- pieces shared by tools/suites/build.py, presence.py and check.py.

A seeded random generator that gives the same numbers on every Python version (the builder must
be byte-for-byte reproducible), the corpus reader (the same document split as src/data/corpus.c),
the validation split of `lmscope data prepare` (src/data/prepare.c: FNV-1a order, 5% of bytes by
default), and the suite-file readers (JSON Lines and the Inverse Scaling Prize CSV, as
docs/formats.md "Probe suites" describes them). Standard library only. Leaves out: the
suites themselves (build.py), validation (check.py), presence (presence.py).
"""
import ast
import csv
import io
import json
import os

MASK64 = (1 << 64) - 1


class Rng:
    """splitmix64: tiny, and the same output everywhere (random.Random's methods have changed
    between Python versions)."""

    def __init__(self, seed):
        self.s = seed & MASK64

    def next64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform integer in [0, n) (rejection sampling, no modulo bias)."""
        assert n > 0
        limit = (1 << 64) - ((1 << 64) % n)
        while True:
            x = self.next64()
            if x < limit:
                return x % n

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def shuffle(self, lst):
        for i in range(len(lst) - 1, 0, -1):
            j = self.below(i + 1)
            lst[i], lst[j] = lst[j], lst[i]
        return lst

    def sample(self, seq, k):
        """k distinct elements of seq (by position), in random order."""
        idx = list(range(len(seq)))
        self.shuffle(idx)
        return [seq[i] for i in idx[:k]]


def seed_of(name):
    """A suite's seed: FNV-1a of its name, so adding a suite never reseeds another."""
    return fnv1a64(("lmscope-suites/" + name).encode("utf-8"))


def fnv1a64(data):
    h = 1469598103934665603
    for c in data:
        h = ((h ^ c) * 1099511628211) & MASK64
    return h


# -- corpus ---------------------------------------------------------------------------------------

WS = b" \t\r\n\v\f"
SEPARATOR = b"<|endoftext|>"


def corpus_docs(path):
    """Documents of one domain file, as bytes, split exactly as src/data/corpus.c does: on lines
    that are exactly <|endoftext|> (a trailing CR tolerated), each trimmed of whitespace, empty
    ones dropped."""
    with open(path, "rb") as f:
        data = f.read()
    docs, cur = [], []
    for line in data.split(b"\n"):
        if line.rstrip(b"\r") == SEPARATOR:
            docs.append(b"\n".join(cur))
            cur = []
        else:
            cur.append(line)
    docs.append(b"\n".join(cur))
    return [d.strip(WS) for d in docs if d.strip(WS)]


def val_split(docs, val_fraction=0.05):
    """Indices of the documents `lmscope data prepare --val-fraction F` holds out (its default,
    0.05): documents in (FNV-1a hash, index) order, each taken while the running byte total stays
    within F of the domain's bytes, never all of them; if none fits, the smallest."""
    n = len(docs)
    if n < 2 or not val_fraction > 0:
        return set()
    order = sorted(range(n), key=lambda i: (fnv1a64(docs[i]), i))
    budget = val_fraction * sum(len(d) for d in docs)
    used, val = 0, []
    for i in order:
        if len(val) >= n - 1:
            break
        if used + len(docs[i]) <= budget:
            used += len(docs[i])
            val.append(i)
    if not val:
        val = [min(order, key=lambda i: len(docs[i]))]
    return set(val)


def corpus_domains(corpus_dir):
    """{domain: [doc bytes]} for every <domain>.txt in corpus_dir, sorted by name."""
    if not os.path.isdir(corpus_dir):
        raise SystemExit("suites: corpus directory %s is missing: run `make corpus` first "
                         "(it unpacks data/corpus-small.tar.xz)" % corpus_dir)
    out = {}
    for fn in sorted(os.listdir(corpus_dir)):
        if fn.endswith(".txt") and not fn.startswith("."):
            out[fn[:-4]] = corpus_docs(os.path.join(corpus_dir, fn))
    if not out:
        raise SystemExit("suites: no <domain>.txt files in %s: run `make corpus`" % corpus_dir)
    return out


# -- suite files ----------------------------------------------------------------------------------

def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_isp_csv(path):
    """Rows of an Inverse Scaling Prize CSV as items {context, choices, answer} (+ the row)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    items = []
    for r in rows:
        items.append({"context": r["prompt"], "choices": ast.literal_eval(r["classes"]),
                      "answer": int(r["answer_index"]), "row": r})
    return items


def read_suite(path):
    if path.endswith(".csv"):
        return read_isp_csv(path)
    return read_jsonl(path)


def write_atomic(path, text):
    """Write text (UTF-8, LF) to path through a temporary file and a rename."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with io.open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)
