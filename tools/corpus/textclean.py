"""Text cleaning shared by the corpus extractors.

What it does: NFC normalisation, straight quotes, joining hard-wrapped lines into paragraphs
(indented blocks such as verse keep their line breaks), stripping _italic_ underscores, removing
stage directions like "(Applause.)" from speeches, and the document separator constant.

What it leaves out: language-specific fixes beyond these; every extractor does its own
source-specific stripping (OSIS tags, quiz syntax, dictd headers).
"""
import re
import unicodedata

EOT = "<|endoftext|>"

_QUOTES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
    "\u00a0": " ", "\ufeff": "", "\r": "",
}
_QUOTE_RE = re.compile("[" + "".join(_QUOTES) + "]")


def norm(s):
    """NFC, straight quotes, no NBSP/BOM/CR, no trailing spaces on lines."""
    s = unicodedata.normalize("NFC", s)
    s = _QUOTE_RE.sub(lambda m: _QUOTES[m.group(0)], s)
    s = s.replace("\t", " ")
    s = "\n".join(line.rstrip() for line in s.split("\n"))
    return s


def paragraphs(lines, keep_indented=True):
    """Hard-wrapped lines -> list of paragraphs (blank lines separate paragraphs).

    A paragraph whose lines are all indented (verse, letters' addresses) keeps its breaks,
    with the indentation removed; otherwise lines are joined with single spaces.
    """
    out, cur = [], []

    def flush():
        if not cur:
            return
        if keep_indented and len(cur) > 1 and all(re.match(r"^\s{2,}\S", x) for x in cur):
            out.append("\n".join(x.strip() for x in cur))
        else:
            out.append(re.sub(r"\s+", " ", " ".join(x.strip() for x in cur)).strip())
        cur.clear()

    for line in lines:
        if line.strip() == "":
            flush()
        else:
            cur.append(line.rstrip())
    flush()
    return [p for p in out if p]


def strip_underscores(s):
    """_italic_ markers -> plain words (keeps underscores inside identifiers)."""
    return re.sub(r"(?<![\w])_([^_\n]+?)_(?![\w])", r"\1", s)


_STAGE_RE = re.compile(r"\s*(?:\((?:Applause|Laughter|Cheers|Cheering|Boos|Booing|Groans)[^()]{0,40}\)"
                       r"|\[(?:Applause|Laughter|Cheers|Cheering|Boos|Booing|Groans)[^\[\]]{0,40}\])",
                       re.I)


def strip_stage(s):
    """Remove '(Applause.)', '(Laughter.)' and the like from a speech."""
    return _STAGE_RE.sub("", s)


def join_doc(parts):
    """Paragraph list -> document text (paragraphs separated by one blank line)."""
    return "\n\n".join(p for p in parts if p.strip())
