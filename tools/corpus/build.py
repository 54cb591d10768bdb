"""Build the lmscope corpus (small or full recipe) from unpacked source packages.

Usage: build.py --recipe small|full --src DIR --out DIR [--heldout DIR] [--licenses DIR]
                [--versions FILE] [--pins FILE] [--update-pins] [--allow-pin-mismatch]

What it does: runs every extractor in sources.py over DIR (packages unpacked by build.sh),
checks the sha256 of each source's clean text against tools/corpus/pins.json, selects documents
per the recipe (probe-critical documents are always kept; the rest is sampled with fixed seeds),
writes one <domain>.txt per domain into --out (documents separated by a line that is exactly
<|endoftext|>), a MANIFEST.json with counts and hashes, the held-out probe lists into --heldout,
then self-checks the output (no empty document, valid UTF-8 in NFC, no OSIS/XML tags left, no
held-out arithmetic problem in arithmetic.txt, no stage directions in speeches, every
probe-critical fact present in its recorded wording).

What it leaves out: downloading (build.sh), tokenisation and sharding (the C data module).
Exit status: 0 ok, 1 self-check failed, 2 usage error, 3 a pin did not match.
"""
import argparse
import hashlib
import json
import os
import random
import re
import sys
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402
import licenses  # noqa: E402
import sources  # noqa: E402
from textclean import EOT  # noqa: E402

SEED = 1234

# small recipe byte budgets (UTF-8 bytes of document text) for the sampled parts
SMALL = {
    "speeches_n": 15,
    "bible_en_books": ["Gen", "Prov"],
    "bible_pairs": 1000,
    "wordnet_bytes": 1_150_000,
    "wordnet_relations_bytes": 450_000,
    "quotes_bytes": 240_000,
    "arith_problems": 6000,
}
FULL_ARITH = 40000


def sha(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def log(msg):
    print("corpus: " + msg, file=sys.stderr, flush=True)


def sample_budget(docs, budget, rng):
    """All critical docs, then non-critical in seeded random order until `budget` bytes."""
    keep = [d for d in docs if d.critical]
    used = sum(len(d.text.encode()) for d in keep)
    rest = [d for d in docs if not d.critical]
    order = list(range(len(rest)))
    rng.shuffle(order)
    chosen = []
    for i in order:
        n = len(rest[i].text.encode())
        if used + n > budget:
            continue
        chosen.append(i)
        used += n
    keepset = {id(d) for d in keep} | {id(rest[i]) for i in chosen}
    return [d for d in docs if id(d) in keepset]  # original (sorted) order


def group(docs, title, per_doc):
    """Many small entries -> documents of up to per_doc entries, split by lexfile."""
    out, cur, curlex = [], [], None
    for d in docs:
        lex = d.meta.get("lexfile", "")
        if cur and (lex != curlex or len(cur) >= per_doc):
            out.append((curlex, cur))
            cur = []
        curlex = lex
        cur.append(d.text)
    if cur:
        out.append((curlex, cur))
    return [title % (lex.split(".")[0] if lex else "") + "\n\n" + "\n\n".join(t) if title else
            "\n\n".join(t) for lex, t in out]


def extract_all(src):
    t0 = time.time()
    out = {}
    out["austen"] = sources.austen(src)
    out["tidytext"] = sources.tidytext(src)
    out["moby_dick"] = sources.moby_dick(src)
    out["sotu"] = sources.sotu(src)
    out["bibles"] = sources.bibles(src)
    out["bible_modern"] = sources.bible_modern(src)
    out["jargon"] = sources.jargon(src)
    out["devils_dictionary"] = sources.devils_dictionary(src)
    out["elements_dict"] = sources.elements_dict(src)
    quiz_docs, quiz_lists = sources.quiz_facts(src)
    out["quiz"] = quiz_docs
    out["fortunes"] = sources.fortunes(src)
    cldr_docs, cldr_pairs = sources.cldr(src)
    out["cldr"] = cldr_docs
    out["civics"] = sources.civics(src)
    crit_words = set()
    for c, k, _ in quiz_lists["capitals"]:
        crit_words.update([c, k])
    for s, k in quiz_lists["us_state_capitals"]:
        crit_words.update([s, k])
    for n, _, _ in quiz_lists["elements_quiz"]:
        crit_words.add(n)
    out["wordnet"] = sources.wordnet(src, crit_words)
    wn_only = wordnet_only_capitals(quiz_lists["capitals"], out["wordnet"])
    out["quiz"], _ = sources.quiz_facts(src, wn_only)
    quiz_lists["wordnet_only"] = wn_only
    log("extracted all sources in %.1fs" % (time.time() - t0))
    return out, quiz_lists, cldr_pairs


def wordnet_only_capitals(capitals, wn_docs):
    """Every second country (sorted) whose capital a WordNet gloss names as 'capital of X'."""
    heads = {}
    for d in wn_docs:
        if d.domain == "wordnet" and d.critical:
            head, _, gloss = d.text.partition(": ")
            for w in head.split(", "):
                heads.setdefault(w, []).append(d.text)
    stated = []
    for c, k, _ in capitals:
        if any(re.search(r"\bcapital (city )?of (the )?%s\b" % re.escape(c), t) for t in heads.get(k, [])):
            stated.append(c)
    return frozenset(stated[::2])


def check_pins(extracted, pins_path, update, allow, versions):
    pins = {}
    if os.path.exists(pins_path):
        with open(pins_path, encoding="utf-8") as f:
            pins = json.load(f)
    got = {}
    for name in sorted(extracted):
        docs = extracted[name]
        got[name] = {"sha256": sha(("\n%s\n" % EOT).join(d.text for d in docs)),
                     "docs": len(docs), "bytes": sum(len(d.text.encode()) for d in docs)}
    if update:
        old_pk = versions or pins.get("packages", {})
        pins = {"note": "sha256 of each source's extracted clean text (all documents joined "
                        "by the separator line), before recipe sampling; rewrite with "
                        "build.sh --update-pins after checking a package update",
                "packages": old_pk, "texts": got}
        with open(pins_path, "w", encoding="utf-8") as f:
            json.dump(pins, f, indent=1, sort_keys=True)
            f.write("\n")
        log("wrote pins to %s" % pins_path)
        return True
    for pkg, ver in sorted(versions.items()):
        want = pins.get("packages", {}).get(pkg)
        if want is not None and want != ver:
            log("note: %s is now version %s, pins were recorded with %s" % (pkg, ver, want))
    bad = []
    for name, g in got.items():
        p = pins.get("texts", {}).get(name)
        if p is None:
            bad.append("%s: no pin recorded (run build.sh with --update-pins)" % name)
        elif p["sha256"] != g["sha256"]:
            bad.append("%s: clean text sha256 %s... (%d docs, %d bytes) but pinned %s... "
                       "(%d docs, %d bytes)" % (name, g["sha256"][:12], g["docs"], g["bytes"],
                                                p["sha256"][:12], p["docs"], p["bytes"]))
    if bad:
        for b in bad:
            log("PIN MISMATCH " + b)
        log("the clean text differs from what was pinned: either a source package changed "
            "(package versions move: compare the versions noted above with pins.json "
            "'packages') or the cleaning code in tools/corpus/ changed. The output would differ "
            "from the committed corpus. Inspect the new text, then rerun with --update-pins "
            "(and commit pins.json with the new corpus), or pass --allow-pin-mismatch to "
            "build anyway.")
        return allow
    log("all %d source pins match" % len(got))
    return True


def select(extracted, recipe):
    """-> dict domain -> list of document texts."""
    rng = random.Random(SEED)
    dom = {}

    def add(d, texts):
        dom.setdefault(d, []).extend(texts)

    ex = extracted
    if recipe == "full":
        novels = ex["austen"] + ex["tidytext"] + ex["moby_dick"]
        add("novels", [d.text for d in novels])
        add("speeches", [d.text for d in ex["sotu"]])
        add("bible_en", [d.text for d in ex["bibles"] if d.domain == "bible_en"])
        add("bible_es_en", [d.text for d in ex["bibles"] if d.domain == "bible_es_en"])
        wn = [d for d in ex["wordnet"] if d.domain == "wordnet"]
        wr = [d for d in ex["wordnet"] if d.domain == "wordnet_relations"]
        add("wordnet", group(wn, "WordNet definitions (%s).", 40))
        add("wordnet_relations", group(wr, "", 40))
        add("devils_dictionary", [d.text for d in ex["devils_dictionary"]])
        add("quotes", [d.text for d in ex["fortunes"]])
        add("bible_modern", [d.text for d in ex["bible_modern"]])
        add("jargon", [d.text for d in ex["jargon"]])
        arith_n = FULL_ARITH
    else:
        novels = [d for d in ex["austen"] if d.meta["book"] == "Pride and Prejudice"] + \
                 [d for d in ex["tidytext"] if d.meta["book"] == "The War of the Worlds"]
        add("novels", [d.text for d in novels])
        sp = ex["sotu"]
        n = SMALL["speeches_n"]
        idx = sorted({round(i * (len(sp) - 1) / (n - 1)) for i in range(n)})
        add("speeches", [sp[i].text for i in idx])
        add("bible_en", [d.text for d in ex["bibles"]
                         if d.domain == "bible_en" and d.meta["book"] in SMALL["bible_en_books"]])
        pairs = [d for d in ex["bibles"] if d.domain == "bible_es_en"]
        order = list(range(len(pairs)))
        rng.shuffle(order)
        chosen, total = [], 0
        for i in order:
            if total >= SMALL["bible_pairs"]:
                break
            take = min(pairs[i].meta["verses"], SMALL["bible_pairs"] - total)
            chosen.append((i, take))
            total += take
        texts = []
        for i, take in sorted(chosen):
            texts.append("\n\n".join(pairs[i].text.split("\n\n")[:take]))
        add("bible_es_en", texts)
        wn = [d for d in ex["wordnet"] if d.domain == "wordnet"]
        wr = [d for d in ex["wordnet"] if d.domain == "wordnet_relations"]
        add("wordnet", group(sample_budget(wn, SMALL["wordnet_bytes"], rng), "WordNet definitions (%s).", 40))
        add("wordnet_relations", group(sample_budget(wr, SMALL["wordnet_relations_bytes"], rng), "", 40))
        add("devils_dictionary", [d.text for d in ex["devils_dictionary"]])
        add("quotes", [d.text for d in sample_budget(ex["fortunes"], SMALL["quotes_bytes"], rng)])
        arith_n = SMALL["arith_problems"]
    add("facts", [d.text for d in ex["quiz"] + ex["elements_dict"]])
    add("translation", [d.text for d in ex["cldr"]])
    add("civics", [d.text for d in ex["civics"]])
    add("arithmetic", generate.arithmetic_docs(arith_n))
    return dom


def write_domains(dom, out):
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith(".txt") or f == "MANIFEST.json":
            os.remove(os.path.join(out, f))
    manifest = {}
    for name in sorted(dom):
        body = ("\n%s\n" % EOT).join(t.strip("\n") for t in dom[name]) + "\n"
        path = os.path.join(out, name + ".txt")
        with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as f:
            f.write(body)
        os.replace(path + ".tmp", path)
        manifest[name] = {"docs": len(dom[name]), "bytes": len(body.encode("utf-8")),
                          "sha256": sha(body)}
    with open(os.path.join(out, "MANIFEST.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    return manifest


_OSIS_RE = re.compile(r"</?(w|note|title|div|chapter|verse|milestone|transChange|q|l|lg|reference|"
                      r"hi|foreign|seg|lb|p)\b[^>]*>|\b(lemma|osisID|sID|eID)=\"")


def self_check(out):
    """-> list of problems found in the written corpus (empty = ok)."""
    probs = []
    held = {(h["op"], h["a"], h["b"]) for h in generate.heldout()}
    for f in sorted(os.listdir(out)):
        if not f.endswith(".txt"):
            continue
        with open(os.path.join(out, f), "rb") as fh:
            raw = fh.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            probs.append("%s: not valid UTF-8 (%s)" % (f, e))
            continue
        if not unicodedata.is_normalized("NFC", text):
            probs.append("%s: not NFC-normalised" % f)
        if "\r" in text:
            probs.append("%s: carriage returns" % f)
        docs = text[:-1].split("\n%s\n" % EOT) if text.endswith("\n") else [text]
        for i, d in enumerate(docs):
            if not d.strip():
                probs.append("%s: document %d is empty" % (f, i))
            if EOT in d:
                probs.append("%s: document %d holds a stray separator" % (f, i))
        m = _OSIS_RE.search(text)
        if m:
            probs.append("%s: markup left: %r" % (f, text[max(0, m.start() - 40):m.end() + 40]))
        if f.startswith("bible") and any("<" in d or ">" in d for d in docs):
            probs.append("%s: angle brackets left in Bible text" % f)
        if f == "speeches.txt" and re.search(r"[(\[](Applause|Laughter)", text):
            probs.append("speeches.txt: stage directions left")
        if f == "arithmetic.txt":
            leak = generate.problems_in(text) & held
            if leak:
                probs.append("arithmetic.txt: %d held-out problems present, e.g. %r"
                             % (len(leak), sorted(leak)[:3]))
            if not generate.problems_in(text):
                probs.append("arithmetic.txt: no problems parsed (check the wordings)")
    return probs


def check_critical(out, quiz_lists, cldr_pairs, extracted):
    """Every probe-critical fact is present in the written corpus, in its recorded wording."""
    def read(name):
        with open(os.path.join(out, name), encoding="utf-8") as f:
            return f.read()
    facts, wn, tr, qt = read("facts.txt"), read("wordnet.txt"), read("translation.txt"), read("quotes.txt")
    probs = []
    wn_only = quiz_lists["wordnet_only"]
    for i, (c, k, _) in enumerate(quiz_lists["capitals"]):
        if c in wn_only:
            if re.search(r"\b%s\b" % re.escape(c), facts) and ("capital of %s is" % c) in facts:
                probs.append("capital of %s is in facts.txt but should be WordNet-only" % c)
            if not re.search(r"(^|\n)[^\n:]*\b%s\b[^\n]*capital (city )?of (the )?%s\b"
                             % (re.escape(k), re.escape(c)), wn):
                probs.append("WordNet gloss for the capital of %s (%s) missing" % (c, k))
        elif ("The capital of %s is %s." % (c, k)) not in facts and \
                ("%s is the capital city of %s." % (k, c)) not in facts:
            probs.append("capital of %s missing from facts.txt" % c)
    for name, sym, num in quiz_lists["elements_quiz"]:
        if "%s has the chemical symbol %s and atomic number %s." % (name, sym, num) not in facts:
            probs.append("element %s missing from facts.txt" % name)
    for a, c in quiz_lists["collective_nouns"]:
        if "A group of %s is called a %s." % (a, c) not in facts:
            probs.append("collective noun for %s missing" % a)
    for lang, e, w, _ in cldr_pairs:
        if '"%s"' % w not in tr or e not in tr:
            probs.append("translation %s %s missing" % (lang, e))
    for d in extracted["fortunes"]:
        if d.critical and d.text not in qt:
            probs.append("famous quote missing: %r" % d.text[:60])
    return probs


def write_heldout(hdir, quiz_lists, cldr_pairs, extracted):
    os.makedirs(hdir, exist_ok=True)

    def dump(name, rows):
        with open(os.path.join(hdir, name), "w", encoding="utf-8", newline="\n") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
        return len(rows)

    n = {}
    n["arithmetic.jsonl"] = dump("arithmetic.jsonl", generate.heldout())
    caps = []
    for i, (c, k, reg) in enumerate(quiz_lists["capitals"]):
        wording = "capital-of" if i % 2 == 0 else "is-capital-city-of"
        if c in quiz_lists["wordnet_only"]:
            wording = "wordnet-gloss-only"
        caps.append({"country": c, "capital": k, "region": reg,
                     "prompt": "The capital of %s is" % c, "answer": k,
                     "training_wording": wording})
    n["capitals.jsonl"] = dump("capitals.jsonl", caps)
    n["us_state_capitals.jsonl"] = dump("us_state_capitals.jsonl", [
        {"state": s, "capital": k, "prompt": "The capital of the state of %s is" % s, "answer": k}
        for s, k in quiz_lists["us_state_capitals"]])
    els = {}
    for name, sym, num in quiz_lists["elements_quiz"]:
        els[name] = {"element": name, "symbol": sym, "number": int(num)}
    n["elements.jsonl"] = dump("elements.jsonl", [
        dict(v, prompt="The chemical symbol for %s is" % v["element"].lower(), answer=v["symbol"])
        for v in sorted(els.values(), key=lambda v: v["number"])])
    n["collective_nouns.jsonl"] = dump("collective_nouns.jsonl", [
        {"animals": a, "collective": c, "prompt": "A group of %s is called a" % a, "answer": c}
        for a, c in quiz_lists["collective_nouns"]])
    n["translations.jsonl"] = dump("translations.jsonl", [
        {"language": lang, "english": e, "word": w, "kind": k,
         "prompt": 'The %s word for %s is "' % (lang, e), "answer": w}
        for lang, e, w, k in cldr_pairs])
    qs = [d for d in extracted["fortunes"] if d.critical]
    n["quotes.jsonl"] = dump("quotes.jsonl", [
        {"quote": d.meta["quote"], "author": d.meta["author"], "file": d.meta["file"]} for d in qs])
    n["shakespeare.jsonl"] = dump("shakespeare.jsonl", [
        {"line": a, "next": b, "play": p} for a, b, p in quiz_lists["shakespeare"]])
    return n


def main():
    ap = argparse.ArgumentParser(description="build the lmscope corpus from unpacked packages")
    ap.add_argument("--recipe", choices=["small", "full"], required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--heldout")
    ap.add_argument("--licenses", help="write one licence notice per source into this directory")
    ap.add_argument("--pins", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "pins.json"))
    ap.add_argument("--update-pins", action="store_true")
    ap.add_argument("--allow-pin-mismatch", action="store_true")
    ap.add_argument("--versions", help="file of 'package version' lines from build.sh")
    a = ap.parse_args()
    t0 = time.time()
    extracted, quiz_lists, cldr_pairs = extract_all(a.src)
    versions = {}
    if a.versions:
        with open(a.versions, encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if parts:
                    versions[parts[0]] = parts[1] if len(parts) > 1 else ""
    if not check_pins(extracted, a.pins, a.update_pins, a.allow_pin_mismatch, versions):
        return 3
    dom = select(extracted, a.recipe)
    manifest = write_domains(dom, a.out)
    if a.heldout:
        n = write_heldout(a.heldout, quiz_lists, cldr_pairs, extracted)
        log("held-out lists in %s: %s" % (a.heldout, ", ".join("%s %d" % kv for kv in sorted(n.items()))))
    if a.licenses:
        n = licenses.write(a.src, a.licenses, versions)
        log("wrote %d licence notices to %s" % (n, a.licenses))
    probs = self_check(a.out) + check_critical(a.out, quiz_lists, cldr_pairs, extracted)
    total = sum(m["bytes"] for m in manifest.values())
    for name, m in sorted(manifest.items()):
        log("  %-20s %6d docs %11d bytes" % (name + ".txt", m["docs"], m["bytes"]))
    log("recipe %s: %d domains, %d bytes in %s (%.1fs)" % (a.recipe, len(manifest), total, a.out,
                                                           time.time() - t0))
    if probs:
        for p in probs:
            log("SELF-CHECK FAILED: " + p)
        return 1
    log("self-check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
