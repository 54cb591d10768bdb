#!/usr/bin/env python3
"""build.py -- generate lmscope's built-in probe suites, data/suites/*, and their README.

    make corpus && python3 tools/suites/build.py            # rewrite data/suites/
    python3 tools/suites/build.py --out /tmp/s --corpus DIR  # elsewhere (the CLI test does this)

Inputs: the unpacked small corpus (data/corpus/<domain>.txt), the probe lists in data/heldout/,
and the templates and word lists in tools/suites/lexicon.py. Output: one file per suite in the
format of docs/formats.md "Probe suites" (JSON Lines; quote-repetition as an Inverse Scaling
Prize CSV) and data/suites/README.md, whose presence column is computed by presence.py.

Reproducible: every suite draws from its own splitmix64 generator seeded by its name, inputs are
read in a fixed order, and files are written with fixed formatting, so two runs give identical
bytes. Leaves out: scoring (src/eval/), the format check (check.py).
"""
import argparse
import csv
import io
import json
import os
import re
import string
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import lexicon as lx  # noqa: E402
import presence  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Longest item text, context plus its longest choice or target, in UTF-8 bytes: about 90 GPT-2
# tokens of English, under 128 tokens with the demo's 4096-token BPE.
MAX_BYTES = 360
MIN_ITEMS = 50


# -- helpers ----------------------------------------------------------------------------------------

def fits(context, conts):
    return len((context + max(conts, key=lambda c: len(c.encode("utf-8")))).encode("utf-8")) <= MAX_BYTES


def pick(rng, pool, k, bad):
    """k distinct values of pool, none in bad, in random order (random draws; a full shuffle
    when the pool is nearly all bad)."""
    out = []
    for _ in range(20 * k):
        v = pool[rng.below(len(pool))]
        if v not in bad and v not in out:
            out.append(v)
            if len(out) == k:
                return out
    for v in rng.sample(pool, len(pool)):
        if v not in bad and v not in out:
            out.append(v)
            if len(out) == k:
                return out
    raise SystemExit("suites: not enough distractors in a pool of %d" % len(pool))


def mc_items(rng, rows, k):
    """rows: (context, right, [k-1 wrong], meta). The right choice's position is i % k over a
    shuffled order, so every position is right equally often (to within one)."""
    pos = [i % k for i in range(len(rows))]
    rng.shuffle(pos)
    items = []
    for (context, right, wrong, meta), p in zip(rows, pos):
        assert len(wrong) == k - 1 and right not in wrong, (context, right, wrong)
        choices = rng.sample(wrong, len(wrong))
        choices.insert(p, right)
        item = {"context": context, "choices": choices, "answer": p}
        if meta:
            item["meta"] = meta
        items.append(item)
    return items


def cap(s):
    return s[:1].upper() + s[1:]


def heldout(name):
    return common.read_jsonl(os.path.join(REPO, "data", "heldout", name + ".jsonl"))


# -- grammar --------------------------------------------------------------------------------------

def grammar_agreement(rng, ctx):
    rows, seen = [], set()
    for cond in ("simple", "pp-attractor", "relative-attractor"):
        for i in range(40):
            while True:
                num = i % 2  # 0 singular, 1 plural
                noun = rng.choice(lx.NOUNS)
                sv, pv, rest = rng.choice(lx.PREDICATES)
                head = noun[num]
                if cond == "simple":
                    context = "The %s" % head
                else:
                    attr = rng.choice([n for n in lx.NOUNS if n != noun])[1 - num]
                    if cond == "pp-attractor":
                        context = "The %s %s the %s" % (head, rng.choice(lx.PREPOSITIONS), attr)
                    else:
                        context = "The %s that the %s %s" % (head, attr, rng.choice(lx.REL_VERBS)[1 - num])
                if (context, rest) not in seen:
                    seen.add((context, rest))
                    break
            right, wrong = (sv, pv) if num == 0 else (pv, sv)
            rows.append((context, " " + right + rest, [" " + wrong + rest],
                         {"condition": cond, "number": "plural" if num else "singular"}))
    return mc_items(rng, rows, 2)


def grammar_tense(rng, ctx):
    rows, seen = [], set()
    for i in range(120):
        future = i % 2
        while True:
            adv = rng.choice(lx.FUTURE_ADVERBS if future else lx.PAST_ADVERBS)
            subj = rng.choice(lx.SUBJECTS_TENSE)
            base, past, comp = rng.choice(lx.VERBS_TENSE)
            if (adv, subj, base) not in seen:
                seen.add((adv, subj, base))
                break
        fut, pst = " will %s%s" % (base, comp), " %s%s" % (past, comp)
        right, wrong = (fut, pst) if future else (pst, fut)
        rows.append(("%s, %s" % (adv, subj), right, [wrong], {"adverb": "future" if future else "past"}))
    return mc_items(rng, rows, 2)


def category_membership(rng, ctx):
    cats = sorted(lx.CATEGORIES)
    rows = []
    for cat in cats:
        for member in lx.CATEGORIES[cat]:
            wrong = rng.choice([c for c in cats if c != cat])
            rows.append(("%s is a kind of" % cap(member), " " + cat, [" " + wrong],
                         {"subject": member.split(" ", 1)[-1], "category": cat}))
    rng.shuffle(rows)
    return mc_items(rng, rows, 2)


# -- facts from data/heldout ----------------------------------------------------------------------

def fact_suite(rng, rows_in, subject_key, answer_key, extra=(), k=4, same=None):
    """Multiple choice over a held-out list: context = its prompt, right = ' answer', wrong =
    other rows' answers (never one that is also right for the same subject)."""
    truths = {}
    for r in rows_in:
        truths.setdefault(r[subject_key], set()).add(r[answer_key])
    rows = []
    for r in rows_in:
        pool = sorted({x[answer_key] for x in rows_in if same is None or same(x, r)})
        wrong = pick(rng, pool, k - 1, truths[r[subject_key]])
        meta = {"subject": r[subject_key]}
        meta.update({e: r[e] for e in extra})
        rows.append((r["prompt"], " " + r[answer_key], [" " + w for w in wrong], meta))
    return mc_items(rng, rows, k)


def capitals(rng, ctx):
    return fact_suite(rng, heldout("capitals"), "country", "capital", ("region", "training_wording"))


def us_state_capitals(rng, ctx):
    return fact_suite(rng, heldout("us_state_capitals"), "state", "capital")


def element_symbols(rng, ctx):
    return fact_suite(rng, heldout("elements"), "element", "symbol")


def collective_nouns(rng, ctx):
    return fact_suite(rng, heldout("collective_nouns"), "animals", "collective")


def translate_words(lang):
    def build(rng, ctx):
        rows = [r for r in heldout("translations") if r["language"] == lang
                and r["word"].casefold() != r["english"].casefold()]
        truths = {}
        for r in rows:
            truths.setdefault(r["english"], set()).add(r["word"])
        out = []
        for r in rows:
            pool = sorted({x["word"] for x in rows if x["kind"] == r["kind"]})
            wrong = pick(rng, pool, 3, truths[r["english"]])
            assert r["prompt"].endswith(' "')
            out.append((r["prompt"][:-2], ' "%s"' % r["word"], [' "%s"' % w for w in wrong],
                        {"subject": r["english"], "kind": r["kind"]}))
        return mc_items(rng, out, 4)
    return build


# -- WordNet sentences from the corpus -----------------------------------------------------------

def wordnet_pairs(ctx, pattern):
    """(x, y) pairs from wordnet_relations.txt sentences, in file order, both single words."""
    text = b"\n".join(ctx["corpus"]["wordnet_relations"]).decode("utf-8")
    return re.findall(pattern, text, re.M)


def antonyms(rng, ctx):
    pairs = wordnet_pairs(ctx, r"(?:^|(?<=\. ))The opposite of ([a-z]+) is ([a-z]+)\.")
    truths, seen, uniq = {}, set(), []
    for x, y in pairs:
        truths.setdefault(x, set()).add(y)
        if frozenset((x, y)) not in seen and x != y:
            seen.add(frozenset((x, y)))
            uniq.append((x, y))
    pool = sorted({w for p in uniq for w in p})
    chosen = rng.sample(uniq, min(150, len(uniq)))
    rows = [("The opposite of %s is" % x, " " + y,
             [" " + w for w in pick(rng, pool, 3, truths[x] | {x})], {"subject": x}) for x, y in chosen]
    return mc_items(rng, rows, 4)


def hypernyms(rng, ctx):
    pairs = wordnet_pairs(ctx, r"(?:^|(?<=\. ))([a-z]+) is a kind of ([a-z]+)\.")
    truths, uniq = {}, []
    for x, y in pairs:
        truths.setdefault(x, set()).add(y)
    for x, y in pairs:
        if len(x) >= 3 and len(y) >= 3 and y not in x and x not in y and len(truths[x]) == 1 \
                and (x, y) not in uniq:
            uniq.append((x, y))
    pool = sorted({y for _, y in uniq})
    chosen = rng.sample(uniq, min(200, len(uniq)))
    rows = [("%s is a kind of" % cap(x), " " + y, [" " + w for w in pick(rng, pool, 3, truths[x] | {x})],
             {"subject": x}) for x, y in chosen]
    return mc_items(rng, rows, 4)


# -- Bible verse translation ----------------------------------------------------------------------

def translate_verses(rng, ctx):
    """KJV -> Reina-Valera pairs from the bible_es_en documents that `data prepare` holds out for
    validation by default; the wrong choice is the Spanish of the held-out verse closest in
    length (so length alone does not give the answer away)."""
    docs = ctx["corpus"]["bible_es_en"]
    pairs = []
    for i in sorted(common.val_split(docs)):
        pairs += re.findall(r"^(\S.*? \d+:\d+)\nEnglish: (.*)\nSpanish: (.*)$", docs[i].decode("utf-8"), re.M)
    rows = []
    for ref, en, es in pairs:
        context = "English: %s\nSpanish:" % en
        others = sorted((abs(len(o[2]) - len(es)), o[0]) for o in pairs if o[2] != es)
        wrong = next(o[2] for o in pairs if o[0] == others[0][1])
        if fits(context, [" " + es, " " + wrong]):
            rows.append((context, " " + es, [" " + wrong], {"ref": ref, "split": "val"}))
    return mc_items(rng, rows, 2)


# -- quotations -----------------------------------------------------------------------------------

END_WORD = re.compile(r"^(.*\S)\s+([a-z]{3,})([.!?]*)$", re.S)


def quote_completion(rng, ctx):
    qs = [(m.group(1), m.group(2), q) for q in heldout("quotes") for m in [END_WORD.match(q["quote"])] if m]
    pool = sorted({w for _, w, _ in qs})
    rows = []
    for pre, w, q in rng.sample(qs, len(qs)):
        wrong = [" " + x for x in pick(rng, pool, 3, {w})]
        if fits(pre, [" " + w] + wrong):
            rows.append((pre, " " + w, wrong, {"author": q["author"]}))
        if len(rows) == 200:
            break
    return mc_items(rng, rows, 4)


def author_key(a):
    """Words that name an author, quoted titles left out ('Rich Hall, "Sniglets"' -> hall, rich)."""
    words = re.findall(r"[a-z]{3,}", re.sub(r'"[^"]*"', "", a).lower())
    return set(words) - {"the", "and", "friends"}


def quote_attribution(rng, ctx):
    qs = heldout("quotes")
    authors = sorted({q["author"] for q in qs})
    rows = []
    for q in rng.sample(qs, len(qs)):
        key = author_key(q["author"])
        bad = {a for a in authors if author_key(a) & key or a == q["author"]}
        wrong = [" " + a for a in pick(rng, authors, 3, bad)]
        context = q["quote"] + "\n--"
        if fits(context, [" " + q["author"]] + wrong):
            rows.append((context, " " + q["author"], wrong, None))
        if len(rows) == 200:
            break
    return mc_items(rng, rows, 4)


def quote_repetition(rng, ctx):
    """Inverse Scaling Prize 'repetition' format: two demonstrations, then a famous quote whose
    last word was replaced; the right class repeats the altered word, the distractor is the
    original (what a model that memorised the quote wants to say)."""
    src = [(q["quote"], "quotes") for q in heldout("quotes")] + \
          [(s["line"], "shakespeare") for s in heldout("shakespeare")]
    qs = [(m.group(1), m.group(2), m.group(3), s) for q, s in src for m in [END_WORD.match(q)] if m]
    pool = sorted({w for _, w, _, _ in qs})
    rows = []
    for pre, w, punct, source in rng.sample(qs, len(qs)):
        alt = pick(rng, pool, 1, {w})[0]
        d1, d2 = rng.sample(lx.REPEAT_DEMOS, 2)
        altered = "%s %s%s" % (pre, alt, punct)
        prompt = "%s\n\nInput: %s\nOutput: %s\n\nInput: %s\nOutput: %s\n\nInput: %s\nOutput: %s" % (
            lx.REPEAT_INSTRUCTION, d1, d1, d2, d2, altered, pre)
        if fits(prompt, [" " + w, " " + alt]):
            rows.append((prompt, " " + alt, [" " + w], {"source": source}))
        if len(rows) == 150:
            break
    return mc_items(rng, rows, 2)


# -- arithmetic -----------------------------------------------------------------------------------

def arithmetic_mc(rng, ctx):
    rows = []
    for r in heldout("arithmetic"):
        ans = int(r["answer"])
        other = {"+": r["a"] - r["b"], "-": r["a"] + r["b"], "*": r["a"] + r["b"]}[r["op"]]
        cands = sorted({c for c in (ans + 1, ans - 1, ans + 10, ans - 10, ans + 2, ans - 2, other) if c >= 0} - {ans})
        wrong = [" %d" % c for c in pick(rng, cands, 3, set())]
        rows.append((r["prompt"], " " + r["answer"], wrong, {"op": r["op"]}))
    return mc_items(rng, rows, 4)


def arithmetic_gen(rng, ctx):
    return [{"context": r["prompt"], "target": " " + r["answer"], "kind": "gen", "meta": {"op": r["op"]}}
            for r in heldout("arithmetic")]


# -- sentiment, spatial, induction ----------------------------------------------------------------

def sentiment(rng, ctx):
    rows, seen = [], set()
    for t in ("loved-it-was", "was-so-i-felt", "friends-said"):
        for i in range(40):
            pol, opp = ("pos", "neg") if i % 2 == 0 else ("neg", "pos")
            while True:
                noun = rng.choice(lx.SENT_NOUNS)
                if t == "loved-it-was":
                    context = "I %s this %s. It was" % (rng.choice(lx.SENT_VERBS[pol]), noun)
                    ans = lx.SENT_JUDGE
                elif t == "was-so-i-felt":
                    context = "The %s was %s, so I felt" % (noun, rng.choice(lx.SENT_CAUSE[pol]))
                    ans = lx.SENT_FEEL
                else:
                    context = "My friends %s the %s, and they said it was" % (rng.choice(lx.SENT_VERBS[pol]), noun)
                    ans = lx.SENT_JUDGE
                j = rng.below(len(ans[pol]))
                if (context, j) not in seen:
                    seen.add((context, j))
                    break
            rows.append((context, " " + ans[pol][j], [" " + ans[opp][j]], {"template": t, "polarity": pol}))
    return mc_items(rng, rows, 2)


def spatial(rng, ctx):
    rows = []
    for t in ("earlier-place", "other-person", "unmentioned"):
        for _ in range(50):
            p, o = rng.sample(lx.NAMES, 2)
            m = 2 + rng.below(2) if t == "earlier-place" else 1 + rng.below(3)
            n_o = 1 + rng.below(2) if t == "other-person" else rng.below(3)
            places = rng.sample(lx.PLACES, m + n_o + 1)
            pm, om, spare = places[:m], places[m:m + n_o], places[-1]
            # interleave the two people's moves at random, each in its own order
            who = [p] * m + [o] * n_o
            rng.shuffle(who)
            it = {p: iter(pm), o: iter(om)}
            story = " ".join("%s %s the %s." % (w, rng.choice(lx.MOVE_VERBS), next(it[w])) for w in who)
            wrong = {"earlier-place": lambda: rng.choice(pm[:-1]), "other-person": lambda: om[-1],
                     "unmentioned": lambda: spare}[t]()
            rows.append(("%s %s left the" % (story, p), " " + pm[-1], [" " + wrong],
                         {"distractor": t, "moves": m + n_o}))
    rng.shuffle(rows)
    return mc_items(rng, rows, 2)


def induction(alphabet, lo, hi):
    def build(rng, ctx):
        items = []
        for _ in range(100):
            n = lo + rng.below(hi - lo + 1)
            w = rng.sample(alphabet, n)
            items.append({"context": " ".join(w) + " " + w[0], "target": " " + " ".join(w[1:]), "kind": "seq",
                          "meta": {"length": n}})
        return items
    return build


# -- the suites -----------------------------------------------------------------------------------

L_QUIZ = "BSD-3-Clause (bsdgames quiz data; LICENSES/bsdgames-quiz.txt)"
L_OWN = "written for lmscope (tools/suites/lexicon.py)"
# name, builder, form, source, licence, what it measures
SUITES = [
    ("grammar-agreement", grammar_agreement, "mc", "templates", L_OWN,
     "subject-verb agreement minimal pairs, with and without an attractor noun of the other number"),
    ("grammar-tense", grammar_tense, "mc", "templates", L_OWN,
     "verb tense agreeing with a past or future time adverb (minimal pairs)"),
    ("category-membership", category_membership, "mc", "templates", L_OWN,
     "lexical category membership: 'A robin is a kind of {bird, tool}'"),
    ("capitals", capitals, "mc", "data/heldout/capitals.jsonl (bsdgames quiz, WordNet glosses)",
     L_QUIZ + "; WordNet 3.0 licence (LICENSES/wordnet.txt)",
     "world knowledge: capital of a country or territory; meta.training_wording says how the corpus states it"),
    ("us-state-capitals", us_state_capitals, "mc", "data/heldout/us_state_capitals.jsonl (bsdgames quiz)", L_QUIZ,
     "world knowledge: capital of a US state"),
    ("element-symbols", element_symbols, "mc", "data/heldout/elements.jsonl (bsdgames quiz, dict-elements)",
     L_QUIZ + "; public domain (LICENSES/elements.txt)", "world knowledge: chemical symbol of an element"),
    ("antonyms", antonyms, "mc", "WordNet antonym sentences in data/corpus/wordnet_relations.txt",
     "WordNet 3.0 licence (LICENSES/wordnet.txt)", "lexical knowledge: WordNet antonyms"),
    ("hypernyms", hypernyms, "mc", "WordNet 'is a kind of' sentences in data/corpus/wordnet_relations.txt",
     "WordNet 3.0 licence (LICENSES/wordnet.txt)", "lexical knowledge: WordNet is-a (hypernym) relation"),
    ("translate-words-es", translate_words("Spanish"), "mc", "data/heldout/translations.jsonl (Unicode CLDR 41)",
     "Unicode licence (LICENSES/cldr.txt)", "word translation English -> Spanish (months, weekdays, territories)"),
    ("translate-words-fr", translate_words("French"), "mc", "data/heldout/translations.jsonl (Unicode CLDR 41)",
     "Unicode licence (LICENSES/cldr.txt)", "word translation English -> French (months, weekdays, territories)"),
    ("translate-words-de", translate_words("German"), "mc", "data/heldout/translations.jsonl (Unicode CLDR 41)",
     "Unicode licence (LICENSES/cldr.txt)", "word translation English -> German (months, weekdays, territories)"),
    ("translate-verses", translate_verses, "mc",
     "KJV / Reina-Valera 1909 verse pairs of data/corpus/bible_es_en.txt's default validation documents",
     "public domain (LICENSES/kjv.txt, LICENSES/rv1909.txt)",
     "sentence translation English -> Spanish by log-prob: the verse's translation or another verse's"),
    ("quote-completion", quote_completion, "mc", "data/heldout/quotes.jsonl (fortunes)",
     "BSD (LICENSES/fortunes.txt)", "memorisation: the last word of a famous quotation"),
    ("quote-attribution", quote_attribution, "mc", "data/heldout/quotes.jsonl (fortunes)",
     "BSD (LICENSES/fortunes.txt)", "memorisation: who said a famous quotation ('-- Author' as in the corpus)"),
    ("collective-nouns", collective_nouns, "mc", "data/heldout/collective_nouns.jsonl (bsdgames quiz)", L_QUIZ,
     "world knowledge: 'A group of crows is called a murder'"),
    ("arithmetic-mc", arithmetic_mc, "mc", "data/heldout/arithmetic.jsonl (generated, never in the corpus)",
     "written for lmscope (tools/corpus/generate.py)", "arithmetic, multiple choice: right sum/difference/product vs near misses"),
    ("arithmetic-gen", arithmetic_gen, "gen", "data/heldout/arithmetic.jsonl (generated, never in the corpus)",
     "written for lmscope (tools/corpus/generate.py)", "arithmetic, greedy generation: exact match of the answer"),
    ("sentiment", sentiment, "mc", "templates", L_OWN, "sentiment: a continuation of the same polarity as the sentence"),
    ("spatial", spatial, "mc", "templates", L_OWN,
     "spatial tracking: 'X went to the kitchen ... X left the {kitchen, store}', with distractor moves"),
    ("induction-words", induction(lx.INDUCTION_WORDS, 6, 16), "seq", "templates (random common nouns)", L_OWN,
     "in-context copying: log-prob of the second copy of a random word string (induction heads)"),
    ("induction-letters", induction(list(string.ascii_lowercase), 8, 20), "seq", "templates (random letters)", L_OWN,
     "in-context copying: log-prob of the second copy of a random letter string"),
    ("quote-repetition", quote_repetition, "isp", "data/heldout/quotes.jsonl, shakespeare.jsonl + templates",
     "BSD (LICENSES/fortunes.txt, LICENSES/bsdgames-quiz.txt)",
     "instruction following vs memorisation (Inverse Scaling Prize format): repeat an altered famous quote"),
]


def render_jsonl(items):
    return "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items)


def render_isp(items):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["prompt", "classes", "answer_index", "source"])
    for it in items:
        assert all("'" not in c and "\\" not in c for c in it["choices"])
        w.writerow([it["context"], repr(it["choices"]), it["answer"], it["meta"]["source"]])
    return buf.getvalue()


def suite_file(name, form):
    return name + (".csv" if form == "isp" else ".jsonl")


def chance(items, form):
    if form in ("mc", "isp"):
        ks = sorted({len(it["choices"]) for it in items})
        return "1/%d" % ks[0] if len(ks) == 1 else "1/%d..1/%d" % (ks[0], ks[-1])
    return "~0 (1/vocab per token)" if form == "seq" else "~0"


def check_sizes(name, items):
    for it in items:
        conts = it["choices"] if "choices" in it else [it["target"]]
        if not fits(it["context"], conts):
            raise SystemExit("suites: %s: an item is over %d bytes: %r" % (name, MAX_BYTES, it["context"][:60]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=os.path.join(REPO, "data", "corpus"), help="unpacked small corpus")
    ap.add_argument("--out", default=os.path.join(REPO, "data", "suites"), help="output directory")
    args = ap.parse_args()
    ctx = {"corpus": common.corpus_domains(args.corpus)}
    os.makedirs(args.out, exist_ok=True)
    index = presence.Index(ctx["corpus"])
    summary = []
    for name, builder, form, source, licence, measures in SUITES:
        items = builder(common.Rng(common.seed_of(name)), ctx)
        check_sizes(name, items)
        fn = suite_file(name, form)
        common.write_atomic(os.path.join(args.out, fn), render_isp(items) if form == "isp" else render_jsonl(items))
        pres = presence.summarise(index, [presence.normalise_item(it, form == "isp") for it in items])
        summary.append((name, fn, len(items), form, chance(items, form), source, licence, measures, pres))
    common.write_atomic(os.path.join(args.out, "README.md"), readme(summary, index))
    for s in summary:
        print("%-22s %5d  %-4s %s" % (s[0], s[2], s[3], presence.describe(s[8])))
    print("suites: wrote %d suites to %s" % (len(summary), args.out))


def readme(summary, index):
    from readme import render  # the README's prose lives in its own file
    return render(summary, index, MAX_BYTES, MIN_ITEMS)


if __name__ == "__main__":
    main()
