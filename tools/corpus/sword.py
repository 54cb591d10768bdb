"""Read a SWORD zText Bible module into plain verses.

What it does: reads the block index (<t>.bzs: 12-byte little-endian records offset/size/
uncompressed size into <t>.bzz, each block zlib-compressed) and the verse index (<t>.bzv: 10-byte
records block/offset/size) for the "ot" and "nt" testaments, walks the entries in SWORD's
order (module heading, testament heading, then per book a book heading, per chapter a chapter
heading, then one slot per verse of the module's versification, empty where the text has no
verse) and strips the OSIS markup from each verse.

Structure comes from the markup itself: a book-heading entry carries <div type="book"
osisID="Gen">, a chapter-heading entry carries <chapter osisID="Gen.1"> (whose book part is
trusted); every entry after a chapter heading is the next verse slot until the next heading.
Text before any chapter heading raises SwordError rather than guessing.

What it leaves out: other versifications, the zLD/rawText drivers, notes and headings (dropped,
not kept), red-letter and Strong's information (the words are kept, the tags dropped).
"""
import html
import os
import re
import struct
import zlib


class SwordError(Exception):
    pass


BOOK_NAMES = {
    "Gen": "Genesis", "Exod": "Exodus", "Lev": "Leviticus", "Num": "Numbers",
    "Deut": "Deuteronomy", "Josh": "Joshua", "Judg": "Judges", "Ruth": "Ruth",
    "1Sam": "1 Samuel", "2Sam": "2 Samuel", "1Kgs": "1 Kings", "2Kgs": "2 Kings",
    "1Chr": "1 Chronicles", "2Chr": "2 Chronicles", "Ezra": "Ezra", "Neh": "Nehemiah",
    "Esth": "Esther", "Job": "Job", "Ps": "Psalms", "Prov": "Proverbs", "Eccl": "Ecclesiastes",
    "Song": "Song of Solomon", "Isa": "Isaiah", "Jer": "Jeremiah", "Lam": "Lamentations",
    "Ezek": "Ezekiel", "Dan": "Daniel", "Hos": "Hosea", "Joel": "Joel", "Amos": "Amos",
    "Obad": "Obadiah", "Jonah": "Jonah", "Mic": "Micah", "Nah": "Nahum", "Hab": "Habakkuk",
    "Zeph": "Zephaniah", "Hag": "Haggai", "Zech": "Zechariah", "Mal": "Malachi",
    "Matt": "Matthew", "Mark": "Mark", "Luke": "Luke", "John": "John", "Acts": "Acts",
    "Rom": "Romans", "1Cor": "1 Corinthians", "2Cor": "2 Corinthians", "Gal": "Galatians",
    "Eph": "Ephesians", "Phil": "Philippians", "Col": "Colossians",
    "1Thess": "1 Thessalonians", "2Thess": "2 Thessalonians", "1Tim": "1 Timothy",
    "2Tim": "2 Timothy", "Titus": "Titus", "Phlm": "Philemon", "Heb": "Hebrews",
    "Jas": "James", "1Pet": "1 Peter", "2Pet": "2 Peter", "1John": "1 John",
    "2John": "2 John", "3John": "3 John", "Jude": "Jude", "Rev": "Revelation",
    # deuterocanonical books (NRSVA versification modules)
    "Tob": "Tobit", "Jdt": "Judith", "EsthGr": "Esther (Greek)", "AddEsth": "Additions to Esther",
    "Wis": "Wisdom of Solomon", "Sir": "Sirach", "Bar": "Baruch", "EpJer": "Letter of Jeremiah",
    "PrAzar": "Prayer of Azariah", "Sus": "Susanna", "Bel": "Bel and the Dragon",
    "1Macc": "1 Maccabees", "2Macc": "2 Maccabees", "3Macc": "3 Maccabees",
    "4Macc": "4 Maccabees", "1Esd": "1 Esdras", "2Esd": "2 Esdras", "PrMan": "Prayer of Manasseh",
    "Ps151": "Psalm 151", "AddDan": "Additions to Daniel",
}

# Opening (sID) milestones only: closing ones (eID) sit at the end of the last verse.
_BOOK_ID_RE = re.compile(r'<div\b(?=[^>]*\btype="book")(?=[^>]*\bsID=)[^>]*\bosisID="([^".]+)"')
_CHAP_RE = re.compile(r'<chapter\b(?=[^>]*\bsID=)[^>]*\bosisID="([^"]+)\.(\d+)"')
# Elements whose whole content is dropped (notes, headings, cross references).
_DROP_RE = re.compile(r'<(note|title|reference)\b[^>]*(?<!/)>.*?</\1>', re.S)
_TAG_RE = re.compile(r'<[^>]*>')


def _read_testament(path, t):
    try:
        with open(os.path.join(path, t + ".bzs"), "rb") as f:
            bzs = f.read()
        with open(os.path.join(path, t + ".bzv"), "rb") as f:
            bzv = f.read()
        with open(os.path.join(path, t + ".bzz"), "rb") as f:
            bzz = f.read()
    except OSError as e:
        raise SwordError("cannot read SWORD module file: %s" % e)
    if len(bzs) % 12 or len(bzv) % 10:
        raise SwordError("%s: index sizes %d/%d are not multiples of 12/10" % (t, len(bzs), len(bzv)))
    blocks = []
    for i in range(len(bzs) // 12):
        off, size, usize = struct.unpack_from("<III", bzs, i * 12)
        if off + size > len(bzz):
            raise SwordError("%s.bzs block %d runs past %s.bzz" % (t, i, t))
        data = zlib.decompress(bzz[off:off + size])
        if len(data) != usize:
            raise SwordError("%s block %d: %d bytes, index says %d" % (t, i, len(data), usize))
        blocks.append(data)
    entries = []
    for i in range(len(bzv) // 10):
        b, off, size = struct.unpack_from("<IIH", bzv, i * 10)
        if size == 0:
            entries.append("")
            continue
        if b >= len(blocks) or off + size > len(blocks[b]):
            raise SwordError("%s.bzv entry %d points outside its block" % (t, i))
        entries.append(blocks[b][off:off + size].decode("utf-8"))
    return entries


def strip_osis(s):
    """OSIS verse markup -> plain text (notes/titles dropped, word tags unwrapped)."""
    s = _DROP_RE.sub(" ", s)
    s = _TAG_RE.sub("", s)
    s = html.unescape(s)
    s = s.replace("\u00b6", " ")  # KJV paragraph marks
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r" ([,.;:!?)])", r"\1", s)
    return s


def read_module(path):
    """-> list of (book_osis_id, chapter, verse, text) in canonical order, text plain."""
    out = []
    for t in ("ot", "nt"):
        entries = _read_testament(path, t)
        book = None
        chap = None
        verse = 0
        for i, e in enumerate(entries[2:], start=2):
            mb = _BOOK_ID_RE.search(e)
            mc = _CHAP_RE.search(e)
            if mb:
                book, chap = mb.group(1), None
                if not mc:
                    continue
            if mc:
                # The chapter's osisID names its book; trust it (some modules put the next
                # book's heading inside the previous book's last verse slot).
                book, chap, verse = mc.group(1), int(mc.group(2)), 0
                continue
            if chap is None:
                if strip_osis(e):
                    raise SwordError("%s entry %d: text before any chapter heading" % (t, i))
                continue
            verse += 1
            out.append((book, chap, verse, strip_osis(e)))
    return out
