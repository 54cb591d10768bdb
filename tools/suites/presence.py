#!/usr/bin/env python3
"""presence.py -- is each probe item's fact in the training text: verbatim, reworded or absent?

    python3 tools/suites/presence.py [--corpus data/corpus] [--items] data/suites/capitals.jsonl ...

The training text is data/corpus/*.txt less the documents that `lmscope data prepare` holds out
for validation by default (--val-fraction 0.05; common.val_split mirrors src/data/prepare.c).
Pass --val-fraction 0 to search every document.

For each item, with `right` its right choice (or its target):
  verbatim  the context followed by `right` occurs in one paragraph of the training text,
            compared with case folded and runs of whitespace made one space, as whole words
            (no letter or digit runs on at either end).
            For an Inverse Scaling Prize row the context is the prompt's last "Output:" line.
  reworded  not verbatim, but the item names its subject (meta.subject) and one paragraph of
            the training text holds both the subject and `right` (stripped of spaces and quotes)
            as whole words; subject matched case-blind, `right` too unless it is 1-2 characters
            (element symbols). An upper bound: the two may share a paragraph for other reasons.
  absent    neither. Items without a subject (templates, quotations, arithmetic) are verbatim
            or absent.
It also counts items for which some wrong choice, after the context, occurs verbatim (the
quote-repetition distractor is the original quote: it should be in the corpus).
Leaves out: tokenisation (the check is on text), the full corpus recipe.
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

WORD = re.compile(r"\w+")
MAX_UNIT = 2000  # paragraphs longer than this (Bible chapters) are split into lines


def norm(s):
    return " ".join(s.split()).casefold()


class Index:
    """The training text as paragraphs (blank-line separated; longer than MAX_UNIT: lines), each
    also whitespace-normalised and case-folded, with a word -> paragraphs posting list."""

    def __init__(self, domains, val_fraction=0.05):
        self.units, self.docs, self.held_out = [], 0, 0
        self.held = {}  # domain -> (documents held out, documents, first lines of the held out)
        for name in sorted(domains):
            docs = domains[name]
            val = common.val_split(docs, val_fraction)
            self.held_out += len(val)
            self.held[name] = (len(val), len(docs), [docs[i].split(b"\n", 1)[0].decode("utf-8") for i in sorted(val)])
            for i, d in enumerate(docs):
                if i in val:
                    continue
                self.docs += 1
                for para in re.split(r"\n\s*\n", d.decode("utf-8")):
                    self.units += para.split("\n") if len(para) > MAX_UNIT else [para]
        self.normed = [norm(u) for u in self.units]
        self.post = {}
        for u, para in enumerate(self.normed):
            for w in set(WORD.findall(para)):
                self.post.setdefault(w, []).append(u)

    def candidates(self, words):
        """Paragraphs holding every one of words (a set), in order."""
        if not words:
            return range(len(self.units))
        lists = sorted((self.post.get(w, []) for w in words), key=len)
        cand = set(lists[0])
        for lst in lists[1:]:
            cand &= set(lst)
            if not cand:
                break
        return sorted(cand)

    def verbatim(self, s):
        """s occurs in one paragraph, whitespace and case aside, as whole words at both ends."""
        n = norm(s)
        if not n:
            return False
        for u in self.candidates(set(WORD.findall(n))):
            t = self.normed[u]
            i = t.find(n)
            while i >= 0:
                j = i + len(n)
                if (i == 0 or not (n[0].isalnum() and t[i - 1].isalnum())) and \
                        (j == len(t) or not (n[-1].isalnum() and t[j].isalnum())):
                    return True
                i = t.find(n, i + 1)
        return False

    def cooccur(self, subject, answer):
        words = set(WORD.findall(subject.casefold())) | set(WORD.findall(answer.casefold()))
        if not words:
            return False
        rs = re.compile(r"(?<!\w)%s(?!\w)" % re.escape(subject), re.I)
        ra = re.compile(r"(?<!\w)%s(?!\w)" % re.escape(answer), 0 if len(answer) <= 2 else re.I)
        return any(rs.search(self.units[u]) and ra.search(self.units[u]) for u in self.candidates(words))


def normalise_item(item, isp=False):
    """(check_context, right, [wrong], subject) of a suite item."""
    ctx = item["context"]
    if isp:
        ctx = ctx.rsplit("\nOutput:", 1)[-1].lstrip()
    if "choices" in item:
        right = item["choices"][item["answer"]]
        wrong = [c for i, c in enumerate(item["choices"]) if i != item["answer"]]
    else:
        right, wrong = item["target"], []
    subject = (item.get("meta") or {}).get("subject")
    return ctx, right, wrong, subject


def classify(index, ctx, right, subject):
    if index.verbatim(ctx + right):
        return "verbatim"
    ans = right.strip().strip('"').strip()
    if subject and ans and index.cooccur(subject, ans):
        return "reworded"
    return "absent"


def summarise(index, nitems, per_item=None):
    out = {"verbatim": 0, "reworded": 0, "absent": 0, "distractor_verbatim": 0, "n": len(nitems)}
    for ctx, right, wrong, subject in nitems:
        c = classify(index, ctx, right, subject)
        out[c] += 1
        d = any(index.verbatim(ctx + w) for w in wrong)
        out["distractor_verbatim"] += d
        if per_item is not None:
            per_item.append((c, d))
    return out


def pct(k, n):
    return "%d%%" % round(100.0 * k / n) if n else "-"


def describe(p):
    """'verbatim 77 (36%) · reworded 136 (64%)' (zero counts left out)."""
    parts = ["%s %d (%s)" % (k, p[k], pct(p[k], p["n"])) for k in ("verbatim", "reworded", "absent") if p[k]]
    return " · ".join(parts)


def main():
    ap = argparse.ArgumentParser(description="Presence of probe items' facts in the training text.")
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(__file__), "..", "..", "data", "corpus"))
    ap.add_argument("--val-fraction", type=float, default=0.05)
    ap.add_argument("--items", action="store_true", help="print each item's class")
    ap.add_argument("suites", nargs="+")
    args = ap.parse_args()
    index = Index(common.corpus_domains(args.corpus), args.val_fraction)
    for path in args.suites:
        items = common.read_suite(path)
        n = [normalise_item(it, path.endswith(".csv")) for it in items]
        per = []
        p = summarise(index, n, per)
        if args.items:
            for it, (c, d) in zip(n, per):
                print("%-9s %s %r" % (c, "D" if d else "-", (it[0] + it[1])[-80:]))
        print("%s: n=%d  %s  (a wrong choice verbatim: %d)" % (os.path.basename(path), p["n"], describe(p),
                                                              p["distractor_verbatim"]))


if __name__ == "__main__":
    main()
