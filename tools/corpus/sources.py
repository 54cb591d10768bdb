"""Extract clean documents from each unpacked source package.

What it does: one function per source. Each takes `root` (a directory holding every package
unpacked under root/<package>/, npm packages under root/npm-<name>/package/) and returns a list of
Doc records: the domain file the text goes to, a sort key, the cleaned text, and whether the
document carries probe-critical facts (critical docs are never sampled away). Extraction is
deterministic: inputs are read in sorted order and nothing depends on the clock or hash seeds.

What it leaves out: sampling and grouping (build.py), generated text (generate.py), licences
(copied by build.py from the packages' copyright files). Sources listed as do-not-ship in
DATA_SOURCES.md are never read here.
"""
import collections
import glob
import gzip
import json
import os
import re
import unicodedata
import xml.etree.ElementTree as ET

import rdata
import sword
from textclean import join_doc, norm, paragraphs, strip_stage, strip_underscores

Doc = collections.namedtuple("Doc", "domain key text critical meta")


def _p(root, *parts):
    return os.path.join(root, *parts)


# --------------------------------------------------------------------------- novels

_CHAPTER_RE = re.compile(r"^\s*(CHAPTER|Chapter)\s+([0-9]+|[IVXLC]+|[A-Z][A-Z-]+)\.?\s*$")
_DIVISION_RE = re.compile(r"^\s*(VOLUME|BOOK|PART|Volume|Book|Part)\s+\S+\.?\s*$")
_END_RE = re.compile(r"^\s*(THE END|FINIS|End of (the )?Project Gutenberg.*)\s*$", re.I)


def split_chapters(title, lines):
    """Novel as a line vector -> list of (chapter_heading, paragraphs); front matter dropped."""
    chapters, cur, head = [], None, None
    for line in lines:
        line = norm(line if line is not None else "")
        if _CHAPTER_RE.match(line):
            if cur is not None:
                chapters.append((head, cur))
            head, cur = line.strip(), []
            continue
        if cur is None:
            continue
        if _END_RE.match(line):
            break
        cur.append(line)
    if cur is not None:
        chapters.append((head, cur))
    out = []
    for head, body in chapters:
        paras = [strip_underscores(p) for p in paragraphs(body)]
        paras = [p for p in paras if not _DIVISION_RE.match(p)]
        if paras:
            out.append((head, paras))
    return out


def _novel_docs(book, author, lines, key_prefix):
    docs = []
    for i, (head, paras) in enumerate(split_chapters(book, lines)):
        text = join_doc(["%s, by %s. %s" % (book, author, head.title())] + paras)
        docs.append(Doc("novels", "%s-%03d" % (key_prefix, i), text, False,
                        {"book": book, "chapter": i + 1}))
    return docs


AUSTEN = [("prideprejudice", "Pride and Prejudice"), ("sensesensibility", "Sense and Sensibility"),
          ("mansfieldpark", "Mansfield Park"), ("emma", "Emma"),
          ("northangerabbey", "Northanger Abbey"), ("persuasion", "Persuasion")]


def austen(root):
    db = rdata.read_lazyload(_p(root, "r-cran-janeaustenr",
                                "usr/lib/R/site-library/janeaustenr/data/Rdata"))
    docs = []
    for var, title in AUSTEN:
        if var not in db:
            raise RuntimeError("janeaustenr: variable %s missing (have %s)" % (var, sorted(db)))
        docs += _novel_docs(title, "Jane Austen", db[var], "austen-" + var)
    return docs


TIDYTEXT_AUTHORS = {"The War of the Worlds": "H. G. Wells",
                    "Twenty Thousand Leagues under the Sea": "Jules Verne",
                    "Great Expectations": "Charles Dickens"}


def tidytext(root):
    b = rdata.read_rda(_p(root, "r-cran-tidytext", "usr/lib/R/site-library/tidytext/extdata/books.rda"))
    df = b["books"]
    cols = dict(zip(df.attrs["names"], df))
    by = collections.OrderedDict()
    for text, title in zip(cols["text"], cols["title"]):
        by.setdefault(title, []).append(text)
    docs = []
    for title in sorted(by):
        if title not in TIDYTEXT_AUTHORS:
            continue  # Pride and Prejudice is also in janeaustenr
        key = "tidytext-" + re.sub(r"\W+", "", title.lower())
        docs += _novel_docs(title, TIDYTEXT_AUTHORS[title], by[title], key)
    return docs


def moby_dick(root):
    d = _p(root, "npm-moby-dick", "package", "data")
    names = sorted(glob.glob(os.path.join(d, "chapter_*.txt")),
                   key=lambda f: int(re.search(r"(\d+)", os.path.basename(f)).group(1)))
    parts = [os.path.join(d, "etymology.txt"), os.path.join(d, "extracts.txt")] + names + \
        [os.path.join(d, "epilogue.txt")]
    docs = []
    for i, f in enumerate(parts):
        with open(f, encoding="utf-8") as fh:
            lines = norm(fh.read()).split("\n")
        paras = [strip_underscores(p) for p in paragraphs(lines)]
        if not paras:
            continue
        head = paras[0]
        text = join_doc(["Moby-Dick, by Herman Melville. %s" % head] + paras[1:])
        docs.append(Doc("novels", "moby-%03d" % i, text, False, {"book": "Moby-Dick", "chapter": i}))
    return docs


# --------------------------------------------------------------------------- speeches

def sotu(root):
    d = _p(root, "npm-sotu", "package", "data")
    docs = []
    for f in sorted(glob.glob(os.path.join(d, "*.json"))):
        with open(f, encoding="utf-8") as fh:
            rec = json.load(fh)
        text = norm(rec["text"])
        text = strip_stage(text)
        paras = paragraphs(text.split("\n"))
        name = norm(rec["name"])
        year = int(rec["year"])
        head = "State of the Union Address by %s, %d." % (name, year)
        docs.append(Doc("speeches", "%d-%s" % (year, os.path.basename(f)),
                        join_doc([head] + paras), False, {"year": year, "name": name}))
    return docs


# --------------------------------------------------------------------------- bibles

KJV_DIR = "usr/share/sword/modules/texts/ztext/engKJV2006eb"
RV_DIR = "usr/share/sword/modules/texts/ztext/spaRV1909eb"
WEB_DIR = "usr/share/sword/modules/texts/ztext/engWEB2015eb"


def bible_modern(root):
    """A modern public-domain English Bible (derived from the World English Bible, notes and
    headings removed, so -- as its licence asks -- not called by that name), chapter docs."""
    verses = sword.read_module(_p(root, "sword-text-web", WEB_DIR))
    chapters = collections.OrderedDict()
    for b, c, v, t in verses:
        chapters.setdefault((b, c), []).append((v, norm(t)))
    books = list(collections.OrderedDict.fromkeys(b for b, _ in chapters))
    docs = []
    for (b, c), vs in chapters.items():
        lines = ["%d %s" % (v, t) for v, t in vs if t]
        if not lines:
            continue
        head = "%s %d" % (sword.BOOK_NAMES.get(b, b), c)
        docs.append(Doc("bible_modern", "%02d-%03d" % (books.index(b), c),
                        "\n".join([head] + lines), False, {"book": b, "chapter": c}))
    return docs


def bibles(root):
    """KJV chapters (bible_en) and aligned KJV/RV1909 verse pairs per chapter (bible_es_en)."""
    kjv = sword.read_module(_p(root, "sword-text-kjv", KJV_DIR))
    rv = sword.read_module(_p(root, "sword-text-sparv", RV_DIR))
    if [v[:3] for v in kjv] != [v[:3] for v in rv]:
        raise RuntimeError("KJV and RV1909 verse lists differ: cannot align")
    chapters = collections.OrderedDict()
    for (b, c, v, en), (_, _, _, es) in zip(kjv, rv):
        chapters.setdefault((b, c), []).append((v, norm(en), norm(es)))
    books = list(collections.OrderedDict.fromkeys(b for b, _ in chapters))
    docs = []
    for (b, c), verses in chapters.items():
        name = sword.BOOK_NAMES[b]
        bi = books.index(b)
        lines = ["%s %d" % (name, c)] + ["%d %s" % (v, en) for v, en, _ in verses if en]
        docs.append(Doc("bible_en", "%02d-%03d" % (bi, c), "\n".join(lines), False,
                        {"book": b, "chapter": c, "verses": len(verses)}))
        # Chapters where either text has an empty verse use a different versification
        # there (verses moved): leave them out of the aligned pairs.
        if any(not en or not es for _, en, es in verses):
            continue
        pairs = ["%s %d:%d\nEnglish: %s\nSpanish: %s" % (name, c, v, en, es) for v, en, es in verses]
        docs.append(Doc("bible_es_en", "%02d-%03d" % (bi, c), "\n\n".join(pairs), False,
                        {"book": b, "chapter": c, "verses": len(verses)}))
    return docs


# --------------------------------------------------------------------------- WordNet

WN_POS = {"n": "noun", "v": "verb", "a": "adjective", "s": "adjective", "r": "adverb"}


def _wn_word(w):
    w = re.sub(r"\([a-z]+\)$", "", w)  # adjective markers like (p)
    return w.replace("_", " ")


def read_wordnet(root):
    """-> dict offset_key -> synset dict (pos, words, gloss, examples, pointers, lexfile)."""
    d = _p(root, "wordnet-base", "usr/share/wordnet")
    syn = {}
    for pos in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(d, "data." + pos), encoding="latin-1") as fh:
            for line in fh:
                if line.startswith("  "):
                    continue  # licence header
                body, _, gloss = line.partition(" | ")
                f = body.split()
                off, lexfile, ss = f[0], int(f[1]), f[2]
                n = int(f[3], 16)
                words = [_wn_word(f[4 + 2 * i]) for i in range(n)]
                k = 4 + 2 * n
                pc = int(f[k])
                ptrs = []
                for i in range(pc):
                    sym, toff, tpos, st = f[k + 1 + 4 * i:k + 5 + 4 * i]
                    ptrs.append((sym, toff + ("a" if tpos == "s" else tpos), st))
                gloss = norm(gloss.strip())
                examples = re.findall(r'"([^"]+)"', gloss)
                definition = re.sub(r'"[^"]*"', "", gloss)
                definition = re.sub(r"\s*;\s*(;\s*)*", "; ", definition).strip(" ;")
                definition = re.sub(r"\s+", " ", definition)
                syn[off + ("a" if ss == "s" else ss)] = {
                    "pos": WN_POS[ss], "words": words, "def": definition,
                    "examples": [e.strip() for e in examples if e.strip()],
                    "ptrs": ptrs, "lexfile": lexfile, "key": off + ss}
    return syn


def _wn_lexnames(root):
    names = {}
    # lexicographer file numbers are fixed by WordNet 3.0 (lexnames); the data files
    # only hold the numbers, so the names come from this table.
    for i, n in enumerate(
            "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute "
            "noun.body noun.cognition noun.communication noun.event noun.feeling noun.food "
            "noun.group noun.location noun.motive noun.object noun.person noun.phenomenon "
            "noun.plant noun.possession noun.process noun.quantity noun.relation noun.shape "
            "noun.state noun.substance noun.time verb.body verb.change verb.cognition "
            "verb.communication verb.competition verb.consumption verb.contact verb.creation "
            "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative "
            "verb.weather adj.ppl".split()):
        names[i] = n
    return names


def wordnet(root, critical_words):
    """Glosses (wordnet) and relation sentences (wordnet_relations).

    One Doc per synset; build.py groups them into documents by lexicographer file.
    A synset is critical when one of its words is in critical_words (capitals, countries,
    elements...) so the small recipe keeps it.
    """
    syn = read_wordnet(root)
    lex = _wn_lexnames(root)
    docs = []
    crit = {w.lower() for w in critical_words}
    for k in sorted(syn, key=lambda x: (syn[x]["lexfile"], x)):
        s = syn[k]
        head = ", ".join(dict.fromkeys(s["words"]))
        is_crit = any(w.lower() in crit for w in s["words"])
        text = "%s: %s." % (head, s["def"]) if s["def"] else ""
        for e in s["examples"]:
            text += ' Example: "%s"' % e.rstrip(".") + "."
        if text:
            docs.append(Doc("wordnet", k, text, is_crit, {"lexfile": lex.get(s["lexfile"], "")}))
        rel = []
        w0 = s["words"][0]
        for sym, tk, st in s["ptrs"]:
            t = syn.get(tk)
            if t is None:
                continue
            tw = t["words"][0]
            if sym == "@" and s["pos"] == "verb":
                rel.append("To %s is a way to %s." % (w0, tw))
            elif sym == "@":
                rel.append("%s is a kind of %s." % (w0, tw))
            elif sym == "@i":
                rel.append("%s is an instance of %s." % (w0, tw))
            elif sym == "#p":
                rel.append("%s is part of %s." % (w0, tw))
            elif sym == "#m":
                rel.append("%s is a member of %s." % (w0, tw))
            elif sym == "#s":
                rel.append("%s is a substance of %s." % (w0, tw))
            elif sym == "!" and st != "0000":
                si, ti = int(st[:2], 16), int(st[2:], 16)
                a = s["words"][si - 1] if 0 < si <= len(s["words"]) else w0
                b = t["words"][ti - 1] if 0 < ti <= len(t["words"]) else tw
                rel.append("The opposite of %s is %s." % (a, b))
        if rel:
            docs.append(Doc("wordnet_relations", k, " ".join(rel), is_crit,
                            {"lexfile": lex.get(s["lexfile"], "")}))
    return docs


# --------------------------------------------------------------------------- dictd

def _b64num(s):
    al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    n = 0
    for ch in s:
        n = n * 64 + al.index(ch)
    return n


def read_dictd(path_prefix):
    """dictd database -> list of (headword, entry text), index order, 00-database* skipped."""
    with gzip.open(path_prefix + ".dict.dz", "rb") as fh:
        data = fh.read()
    out = []
    with open(path_prefix + ".index", encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0].startswith("00database") or parts[0].startswith("00-"):
                continue
            off, ln = _b64num(parts[1]), _b64num(parts[2])
            if off + ln > len(data):
                raise RuntimeError("%s.index: entry %s runs past the data" % (path_prefix, parts[0]))
            blob = data[off:off + ln]
            try:
                out.append((parts[0], blob.decode("utf-8")))
            except UnicodeDecodeError:
                out.append((parts[0], blob.decode("latin-1")))
    return out


def devils_dictionary(root):
    entries = read_dictd(_p(root, "dict-devil", "usr/share/dictd/devil"))
    seen, by_letter = set(), collections.OrderedDict()
    for head, text in entries:
        if text in seen:
            continue
        seen.add(text)
        paras = [strip_underscores(p) for p in paragraphs(norm(text).split("\n"))]
        if not paras:
            continue
        letter = head[:1].upper() if head[:1].isalpha() else "#"
        by_letter.setdefault(letter, []).append(join_doc(paras))
    docs = []
    for letter in sorted(by_letter):
        text = join_doc(["The Devil's Dictionary, by Ambrose Bierce: %s" % letter] + by_letter[letter])
        docs.append(Doc("devils_dictionary", letter, text, False, {}))
    return docs


def jargon(root):
    """The Jargon File 4.4.7 (dict-jargon): entries 'word (n.): sense. sense.', by letter."""
    entries = read_dictd(_p(root, "dict-jargon", "usr/share/dictd/jargon"))
    by_letter = collections.OrderedDict()
    seen = set()
    for head, text in entries:
        text = norm(text)
        if text in seen:
            continue
        seen.add(text)
        lines = text.split("\n")
        word = lines[0].strip()
        rest = lines[1:]
        pos = ""
        if len(rest) > 1 and rest[0].strip() and not rest[1].strip():
            pos = rest[0].strip()  # pronunciation and part of speech
            rest = rest[1:]
        paras = [re.sub(r"[{}]", "", p) for p in paragraphs(rest, keep_indented=False)]
        if not paras or not word:
            continue
        first = "%s%s: %s" % (word, " " + pos if pos else "", paras[0])
        letter = word[:1].upper() if word[:1].isalpha() else "#"
        by_letter.setdefault(letter, []).append(join_doc([first] + paras[1:]))
    return [Doc("jargon", k, join_doc(["The Jargon File, version 4.4.7: %s" % k] + v), False, {})
            for k, v in sorted(by_letter.items())]


def elements_dict(root):
    """dict-elements -> one fact paragraph per element (critical)."""
    entries = read_dictd(_p(root, "dict-elements", "usr/share/dictd/elements"))
    docs, facts = [], []
    seen = set()
    for head, text in entries:
        lines = norm(text).split("\n")
        fields, rest = {}, []
        for line in lines[1:]:
            m = re.match(r"^(Symbol|Atomic number|Atomic weight):\s*(.+)$", line, re.I)
            if m:
                fields[m.group(1).capitalize()] = m.group(2).strip()
            else:
                rest.append(line)
        name = lines[0].strip()
        if "Symbol" not in fields or name.lower() in seen:
            continue
        seen.add(name.lower())
        name = name[:1].upper() + name[1:]
        desc = re.sub(r"[{}]", "", " ".join(paragraphs(rest))).strip()
        t = "%s. Symbol: %s. Atomic number: %s." % (name, fields["Symbol"], fields.get("Atomic number", "?"))
        if "Atomic weight" in fields:
            t += " Atomic weight: %s." % fields["Atomic weight"]
        if desc:
            t += " " + desc
        num = int(re.sub(r"\D", "", fields.get("Atomic number", "")) or 999)
        facts.append((num, t, name, fields["Symbol"]))
    facts.sort()
    text = join_doc(["The chemical elements."] + [t for _, t, _, _ in facts])
    docs.append(Doc("facts", "elements-dict", text, True,
                    {"elements": [(n, name, sym) for n, _, name, sym in facts]}))
    return docs


# --------------------------------------------------------------------------- bsdgames quiz

_ACCENTS = {"^": "\u0302", "'": "\u0301", "`": "\u0300", '"': "\u0308", "~": "\u0303", ",": "\u0327",
            "\u00b0": "\u030a"}
_OVERSTRIKE_RE = re.compile("([\\^'`~\",\u00b0])\x08([A-Za-z])|([A-Za-z])\x08([\\^'`~\",\u00b0])")


def _overstrike(m):
    acc, letter = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    return unicodedata.normalize("NFC", letter + _ACCENTS[acc])


def _quiz_alts(s):
    """Split s at top-level '|' (outside {} and [])."""
    out, depth, cur, i = [], 0, "", 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            cur += s[i:i + 2]
            i += 2
            continue
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        if ch == "|" and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    out.append(cur)
    return out


def quiz_expand(s):
    """Quiz answer syntax -> its fullest first form: {opt} kept, [a|b] and a|b -> first."""
    return re.sub(r"\s+", " ", _quiz_expand(s)).strip()


def _quiz_expand(s):
    s = _quiz_alts(s)[0]
    out, i = "", 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            out += s[i + 1]
            i += 2
        elif ch in "{[":
            close = "}" if ch == "{" else "]"
            depth, j = 1, i + 1
            while j < len(s) and depth:
                if s[j] == "\\":
                    j += 2
                    continue
                if s[j] in "{[":
                    depth += 1
                elif s[j] in "}]":
                    depth -= 1
                j += 1
            inner = s[i + 1:j - 1]
            if ch == "[":
                alt = _quiz_alts(inner)[0]
                if len(alt) == 2 and alt[0] in _ACCENTS and alt[1].isalpha():
                    out += unicodedata.normalize("NFC", alt[1] + _ACCENTS[alt[0]])
                else:
                    out += _quiz_expand(alt)
            else:
                out += _quiz_expand(inner)
            i = j
        else:
            out += ch
            i += 1
    return out


def read_quiz(path):
    """Quiz file -> list of field lists (continuation lines joined, duplicates dropped)."""
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError:
        raw = data.decode("latin-1")
    raw = _OVERSTRIKE_RE.sub(_overstrike, raw).replace("\x08", "")
    raw = raw.replace("\\\n", "")
    rows, seen = [], set()
    for line in raw.split("\n"):
        if not line.strip():
            continue
        fields, cur, i = [], "", 0
        while i < len(line):
            if line[i] == "\\" and i + 1 < len(line):
                cur += line[i:i + 2]
                i += 2
                continue
            if line[i] == ":":
                fields.append(cur)
                cur = ""
            else:
                cur += line[i]
            i += 1
        fields.append(cur)
        key = tuple(fields)
        if key in seen:
            continue
        seen.add(key)
        rows.append(fields)
    return rows


def _two_lines(a, b):
    a = a.strip()
    return (a + ("" if a[-1:] in ",;:.?!" else ",") + " " + b.strip()).rstrip(",;:")


def _play(w):
    return re.sub(r"\s+[IVX]+-[ivx]+$", "", w.strip())


def quiz_facts(root, wordnet_only=frozenset()):
    """bsdgames quiz tables -> fact documents (all critical) + structured lists for heldout.

    Countries in wordnet_only are left out of the capitals document: their capital is then
    stated only by a WordNet gloss ("Baku, capital of Azerbaijan: ..."), so a probe can ask in
    another wording ("The capital of Azerbaijan is").
    """
    d = _p(root, "bsdgames", "usr/share/games/bsdgames/quiz")
    q = lambda n: [[quiz_expand(f) for f in r] for r in read_quiz(os.path.join(d, n))]
    docs, lists = [], {}

    caps = []
    for region in ("africa", "america", "asia", "europe"):
        for r in q(region):
            if len(r) >= 2 and r[0] and r[1]:
                caps.append((r[0], r[1], region))
    caps = sorted(dict(((c, k), reg) for c, k, reg in caps).items())
    caps = [(c, k, reg) for (c, k), reg in caps]
    lists["capitals"] = caps
    # Two wordings, alternating, so both forms are seen but no country in both.
    lines = []
    for i, (c, k, _) in enumerate(caps):
        if c in wordnet_only:
            continue
        lines.append("The capital of %s is %s." % (c, k) if i % 2 == 0 else
                     "%s is the capital city of %s." % (k, c))
    docs.append(Doc("facts", "capitals", join_doc(["Countries and their capitals."] + lines), True, {}))

    st = [r for r in q("state") if len(r) >= 2]
    lists["us_state_capitals"] = [(r[0], r[1]) for r in st]
    lines = ["The capital of the state of %s is %s." % (r[0], r[1]) for r in st]
    lines += ["The postal abbreviation of %s is %s." % (r[0], r[2]) for r in st if len(r) > 2 and r[2]]
    docs.append(Doc("facts", "us-states", join_doc(["The states of the United States."] + lines), True, {}))

    el = [r for r in q("elements") if len(r) >= 4]
    lists["elements_quiz"] = [(r[3], r[0], r[1]) for r in el]
    lines = ["%s has the chemical symbol %s and atomic number %s." % (r[3], r[0], r[1]) for r in el]
    docs.append(Doc("facts", "elements-quiz", join_doc(["Element symbols."] + lines), True, {}))

    co = [r for r in q("collectives") if len(r) >= 2]
    lists["collective_nouns"] = [(r[0], r[1]) for r in co]
    lines = ["A group of %s is called a %s." % (r[0], r[1]) for r in co]
    docs.append(Doc("facts", "collectives", join_doc(["Collective nouns."] + lines), True, {}))

    sx = [r for r in q("sexes") if len(r) >= 2 and len(r[0]) > 1]
    lists["male_female"] = [(r[0], r[1]) for r in sx]
    lines = ["The female counterpart of %s is %s." % (r[0], r[1]) for r in sx]
    docs.append(Doc("facts", "male-female", join_doc(["Male and female words."] + lines), True, {}))

    ba = [r for r in q("babies") if len(r) >= 2]
    lines = ["A young %s is called a %s." % (r[1], r[0]) for r in ba]
    docs.append(Doc("facts", "babies", join_doc(["Young animals."] + lines), True, {}))

    pr = [r for r in q("pres") if len(r) >= 2]
    lists["presidents"] = [(r[0], r[1]) for r in pr]
    lines = []
    for r in pr:
        a, _, b = r[1].partition("-")
        when = "from %s to %s" % (a, b) if b else ("from %s" % a if "-" in r[1] else "in %s" % a)
        lines.append("%s was President of the United States %s." % (r[0], when))
    docs.append(Doc("facts", "presidents", join_doc(["Presidents of the United States."] + lines), True, {}))

    bd = [r for r in q("bard") if len(r) >= 3]
    lists["shakespeare"] = [(r[0], r[1], _play(r[2])) for r in bd]
    lines = ['"%s" is a line from Shakespeare\'s %s.' % (_two_lines(r[0], r[1]), _play(r[2])) for r in bd]
    docs.append(Doc("facts", "bard", join_doc(["Lines from Shakespeare."] + lines), True, {}))

    po = [r for r in q("poetry") if len(r) >= 4]
    lines = ['"%s" is from %s by %s.' % (_two_lines(r[0], r[1]), r[2], r[3]) for r in po]
    docs.append(Doc("facts", "poetry", join_doc(["Lines of poetry."] + lines), True, {}))

    mu = [r for r in q("murders") if len(r) >= 2]
    lines = ["%s was killed by %s." % (r[0], r[1]) for r in mu]
    docs.append(Doc("facts", "murders", join_doc(["Famous killings."] + lines), True, {}))

    fl = [r for r in q("flowers") if len(r) >= 2]
    lines = ["In the language of flowers, %s means %s." % (r[0], r[1]) for r in fl]
    docs.append(Doc("facts", "flowers", join_doc(["The language of flowers."] + lines), True, {}))

    la = [r for r in q("latin") if len(r) >= 2]
    lines = ['The Latin phrase "%s" means "%s".' % (r[0], r[1]) for r in la]
    docs.append(Doc("facts", "latin", join_doc(["Latin phrases."] + lines), True, {}))

    pv = [r for r in q("province") if len(r) >= 2 and r[0] not in wordnet_only]
    lines = ["The capital of %s is %s." % (r[0], r[1]) for r in pv]
    docs.append(Doc("facts", "provinces", join_doc(["Provinces of Canada and their capitals."] + lines), True, {}))
    return docs, lists


# --------------------------------------------------------------------------- fortunes

FORTUNE_ALLOW = ["literature", "wisdom", "people", "humorists", "science", "education", "art",
                 "politics", "law", "medicine", "work", "love", "food", "kids", "pets", "sports",
                 "platitudes", "miscellaneous", "riddles", "fortunes", "goedel", "paradoxum", "tao",
                 "definitions", "computers", "magic", "cookie"]

_ATTR_RE = re.compile(r"^\s*--\s*(.+?)\s*$")


def _fortune_clean(entry):
    lines = norm(entry).split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    attr = None
    # attribution: final lines starting with '--' (may wrap onto an indented next line)
    for j in range(len(lines) - 1, max(-1, len(lines) - 3), -1):
        m = _ATTR_RE.match(lines[j])
        if m and j > 0:
            attr = re.sub(r"\s+", " ", " ".join([m.group(1)] + [x.strip() for x in lines[j + 1:]]))
            lines = lines[:j]
            break
    body = []
    for para in paragraphs(lines, keep_indented=True):
        body.append(para)
    text = join_doc(body)
    return text, attr


def fortunes(root):
    files = []
    for pkg in ("fortunes", "fortunes-min"):
        for n in FORTUNE_ALLOW:
            f = _p(root, pkg, "usr/share/games/fortunes", n)
            if os.path.isfile(f):
                files.append((n, f))
    files.sort()
    items, seen = [], set()
    for n, f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            raw = fh.read()
        for i, entry in enumerate(re.split(r"\n%\n", "\n" + raw + "\n")):
            text, attr = _fortune_clean(entry)
            if not text or "\ufffd" in text:
                continue
            k = re.sub(r"\W+", "", text.lower())
            if k in seen:
                continue
            seen.add(k)
            items.append((n, i, text, attr))
    # "Famous" = an author with at least 3 attributed short quotes in the allowlisted files.
    count = collections.Counter(a for _, _, t, a in items if a and len(t) <= 200)
    docs = []
    for n, i, text, attr in items:
        famous = bool(attr) and count[attr] >= 3 and len(text) <= 200 and "\n" not in text
        full = text + ("\n-- " + attr if attr else "")
        docs.append(Doc("quotes", "%s-%05d" % (n, i), full, famous,
                        {"file": n, "author": attr, "quote": text}))
    return docs


# --------------------------------------------------------------------------- CLDR

LANGS = [("fr", "French"), ("es", "Spanish"), ("de", "German"), ("it", "Italian")]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
DAYS = [("sun", "Sunday"), ("mon", "Monday"), ("tue", "Tuesday"), ("wed", "Wednesday"),
        ("thu", "Thursday"), ("fri", "Friday"), ("sat", "Saturday")]


def _cldr_names(path):
    tree = ET.parse(path)
    r = tree.getroot()
    out = {"months": {}, "days": {}, "territories": {}, "languages": {}}
    for cal in r.iter("calendar"):
        if cal.get("type") != "gregorian":
            continue
        for ctx in cal.iter("monthContext"):
            if ctx.get("type") != "format":
                continue
            for w in ctx.iter("monthWidth"):
                if w.get("type") == "wide":
                    for m in w.iter("month"):
                        if m.get("alt") is None:
                            out["months"][int(m.get("type"))] = m.text
        for ctx in cal.iter("dayContext"):
            if ctx.get("type") != "format":
                continue
            for w in ctx.iter("dayWidth"):
                if w.get("type") == "wide":
                    for m in w.iter("day"):
                        if m.get("alt") is None:
                            out["days"][m.get("type")] = m.text
    for t in r.iter("territory"):
        if t.get("alt") is None and re.fullmatch(r"[A-Z]{2}", t.get("type") or "") and t.text:
            out["territories"][t.get("type")] = t.text
    for t in r.iter("language"):
        if t.get("alt") is None and re.fullmatch(r"[a-z]{2,3}", t.get("type") or "") and t.text:
            out["languages"][t.get("type")] = t.text
    return out


def cldr(root):
    d = _p(root, "unicode-cldr-core", "usr/share/unicode/cldr/common/main")
    en = _cldr_names(os.path.join(d, "en.xml"))
    docs, pairs = [], []
    for code, lang in LANGS:
        loc = _cldr_names(os.path.join(d, code + ".xml"))
        lines = []
        for i, m in enumerate(MONTHS_EN, start=1):
            w = loc["months"].get(i)
            if w:
                pairs.append((lang, m, norm(w), "month"))
                lines.append('The %s word for %s is "%s".' % (lang, m, norm(w)) if i % 2 else
                             'In %s, %s is called "%s".' % (lang, m, norm(w)))
        for i, (k, dname) in enumerate(DAYS):
            w = loc["days"].get(k)
            if w:
                pairs.append((lang, dname, norm(w), "day"))
                lines.append('The %s word for %s is "%s".' % (lang, dname, norm(w)) if i % 2 == 0 else
                             'In %s, %s is called "%s".' % (lang, dname, norm(w)))
        docs.append(Doc("translation", "%s-calendar" % code,
                        join_doc(["%s names of months and days." % lang] + lines), True, {}))
        lines = []
        for i, k in enumerate(sorted(en["territories"])):
            e, w = en["territories"][k], loc["territories"].get(k)
            if not w or k in ("ZZ", "QO", "XA", "XB", "EZ", "UN"):
                continue
            e, w = norm(e), norm(w)
            pairs.append((lang, e, w, "territory"))
            lines.append('In %s, %s is called "%s".' % (lang, e, w) if i % 2 else
                         'The %s name for %s is "%s".' % (lang, e, w))
        docs.append(Doc("translation", "%s-territories" % code,
                        join_doc(["%s names of countries and regions." % lang] + lines), True, {}))
        lines = []
        for k in sorted(en["languages"]):
            e, w = en["languages"][k], loc["languages"].get(k)
            if w and k not in ("zxx", "und", "mul", "mis"):
                lines.append('In %s, the %s language is called "%s".' % (lang, norm(e), norm(w)))
        docs.append(Doc("translation", "%s-languages" % code,
                        join_doc(["%s names of languages." % lang] + lines), False, {}))
    return docs, pairs


# --------------------------------------------------------------------------- civics

def civics(root):
    docs = []
    for n in ("us-declaration", "us-constitution"):
        with gzip.open(_p(root, "miscfiles", "usr/share/state", n + ".gz"), "rt", encoding="latin-1") as fh:
            lines = norm(fh.read()).split("\n")
        paras = paragraphs(lines)
        docs.append(Doc("civics", n, join_doc(paras), True, {}))
    return docs
