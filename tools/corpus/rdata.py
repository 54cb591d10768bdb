"""Read R data files (.rds, .rda, lazy-load .rdb/.rdx) without R.

What it does: decodes R's XDR serialization format (versions 2 and 3) far enough to pull
character vectors, numeric vectors, lists and data frames out of the data files that R packages
ship (janeaustenr's data/Rdata.rdb, tidytext's extdata/books.rda). Values come back as plain
Python objects: STRSXP -> list of str (NA -> None), INTSXP/LGLSXP -> list of int, REALSXP -> list
of float, VECSXP -> RList (a list with .attrs), pairlists -> list of (tag, value).

What it leaves out: byte code, closures' bodies beyond a generic structure, the ASCII and
native-binary formats, and most ALTREP classes (compact sequences and wrappers are handled,
others raise). Errors raise RDataError with a message naming the problem.
"""
import bz2
import gzip
import lzma
import struct
import zlib


class RDataError(Exception):
    pass


class RList(list):
    """A VECSXP: list of values, plus R attributes (names, class, row.names ...)."""

    def __init__(self, items, attrs=None):
        super().__init__(items)
        self.attrs = attrs or {}


class RObj:
    """Anything that is not a plain vector (environments, symbols, closures, ...)."""

    def __init__(self, kind, value=None, attrs=None):
        self.kind = kind
        self.value = value
        self.attrs = attrs or {}

    def __repr__(self):
        return "RObj(%s, %r)" % (self.kind, self.value)


def _decompress_any(data):
    """Undo the outer compression of an .rds/.rda file (gzip, bzip2, xz or none)."""
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:3] == b"BZh":
        return bz2.decompress(data)
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(data)
    return data


class _Reader:
    def __init__(self, buf):
        self.b = buf
        self.p = 0
        self.refs = []

    def need(self, n):
        if self.p + n > len(self.b):
            raise RDataError("truncated R serialization at byte %d (need %d more)" % (self.p, n))

    def int(self):
        self.need(4)
        v = struct.unpack_from(">i", self.b, self.p)[0]
        self.p += 4
        return v

    def raw(self, n):
        self.need(n)
        v = self.b[self.p:self.p + n]
        self.p += n
        return v

    def header(self):
        fmt = self.raw(2)
        if fmt != b"X\n":
            raise RDataError("only the XDR ('X') R serialization format is supported, got %r" % fmt)
        version = self.int()
        self.int()  # writer R version
        self.int()  # minimal reader version
        if version == 3:
            n = self.int()
            self.raw(n)  # native encoding name
        elif version != 2:
            raise RDataError("unsupported R serialization version %d" % version)

    def length(self):
        n = self.int()
        if n == -1:
            hi, lo = self.int(), self.int()
            n = (hi << 32) + lo
        if n < 0 or n > len(self.b) * 8 + 16:
            raise RDataError("implausible vector length %d at byte %d" % (n, self.p))
        return n

    def strvec_plain(self):
        if self.int() != 0:
            raise RDataError("bad persistent string vector")
        n = self.int()
        return [self.item() for _ in range(n)]

    def attrs_of(self, pairlist):
        out = {}
        if isinstance(pairlist, list):
            for tag, val in pairlist:
                out[tag] = val
        return out

    def item(self):
        flags = self.int()
        typ = flags & 0xFF
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))
        levels = flags >> 12
        if typ == 254:  # NILVALUE
            return None
        if typ in (253, 252, 251, 250, 242, 241):  # special environments / markers
            return RObj({253: "globalenv", 252: "unbound", 251: "missing", 250: "basenamespace",
                         242: "emptyenv", 241: "baseenv"}[typ])
        if typ == 255:  # REFSXP
            idx = flags >> 8
            if idx == 0:
                idx = self.int()
            if idx < 1 or idx > len(self.refs):
                raise RDataError("bad reference index %d" % idx)
            return self.refs[idx - 1]
        if typ in (247, 249, 248):  # PERSIST / NAMESPACE / PACKAGE
            o = RObj("persist", self.strvec_plain())
            self.refs.append(o)
            return o
        if typ == 1:  # SYMSXP
            name = self.item()
            self.refs.append(name)  # symbols come back as their name
            return name
        if typ == 4:  # ENVSXP
            o = RObj("env")
            self.refs.append(o)
            self.int()  # locked
            enclos = self.item()
            frame = self.item()
            hashtab = self.item()
            attr = self.item()
            o.value = {"enclos": enclos, "frame": frame, "hashtab": hashtab}
            o.attrs = self.attrs_of(attr)
            return o
        if typ in (2, 3, 5, 6, 17, 239, 240):  # pairlist-like
            attr = self.item() if has_attr else None
            tag = self.item() if has_tag else None
            car = self.item()
            cdr = self.item()
            cell = [(tag, car)]
            if isinstance(cdr, list) and not isinstance(cdr, RList):
                cell.extend(cdr)
            elif cdr is not None:
                cell.append((None, cdr))
            if typ == 2 or typ == 239:
                return cell
            return RObj({3: "closure", 5: "promise", 6: "lang", 17: "dots", 240: "lang"}[typ],
                        cell, self.attrs_of(attr))
        if typ in (7, 8):  # SPECIAL / BUILTIN
            n = self.int()
            return RObj("builtin", self.raw(n).decode("latin-1"))
        if typ == 9:  # CHARSXP
            n = self.int()
            if n == -1:
                return None
            s = self.raw(n)
            if levels & 8:  # UTF8
                return s.decode("utf-8")
            if levels & 4:  # LATIN1
                return s.decode("latin-1")
            try:
                return s.decode("utf-8")
            except UnicodeDecodeError:
                return s.decode("latin-1")
        if typ == 238:  # ALTREP
            info = self.item()
            state = self.item()
            attr = self.item()
            cls = info[0][1] if isinstance(info, list) and info else None
            val = self.altrep(cls, state)
            if isinstance(val, RList):
                val.attrs.update(self.attrs_of(attr))
            return val
        if typ == 25:  # S4
            attr = self.item() if has_attr else None
            return RObj("s4", None, self.attrs_of(attr))
        if typ in (22, 23):  # EXTPTR / WEAKREF
            o = RObj("extptr" if typ == 22 else "weakref")
            self.refs.append(o)
            if typ == 22:
                self.item()
                self.item()
            if has_attr:
                o.attrs = self.attrs_of(self.item())
            return o
        if typ in (10, 13, 14, 15, 16, 19, 20, 24):
            n = self.length()
            if typ in (10, 13):
                self.need(4 * n)
                v = list(struct.unpack_from(">%di" % n, self.b, self.p))
                self.p += 4 * n
            elif typ == 14:
                self.need(8 * n)
                v = list(struct.unpack_from(">%dd" % n, self.b, self.p))
                self.p += 8 * n
            elif typ == 15:
                self.need(16 * n)
                d = struct.unpack_from(">%dd" % (2 * n), self.b, self.p)
                self.p += 16 * n
                v = [complex(d[2 * i], d[2 * i + 1]) for i in range(n)]
            elif typ == 24:
                v = self.raw(n)
            else:
                v = [self.item() for _ in range(n)]
            attrs = self.attrs_of(self.item()) if has_attr else {}
            if typ in (19, 20):
                return RList(v, attrs)
            if attrs:
                return RList(v, attrs) if typ != 16 else _Attributed(v, attrs)
            return v
        raise RDataError("unsupported R SEXP type %d at byte %d" % (typ, self.p))

    def altrep(self, cls, state):
        if cls == "compact_intseq" or cls == "compact_realseq":
            n, start, step = state[0], state[1], state[2]
            return [start + step * i for i in range(int(n))]
        if cls and cls.startswith("wrap_"):
            return state[0][1] if isinstance(state, list) and state and isinstance(state[0], tuple) \
                else state[0]
        if cls == "deferred_string":
            arg = state[0][1] if isinstance(state, list) else state
            return [str(x) for x in arg]
        raise RDataError("unsupported ALTREP class %r" % cls)


class _Attributed(list):
    def __init__(self, items, attrs):
        super().__init__(items)
        self.attrs = attrs


def unserialize(buf):
    """Decode one serialized R object (bytes starting with 'X\\n')."""
    r = _Reader(buf)
    r.header()
    return r.item()


def read_rds(path):
    with open(path, "rb") as f:
        return unserialize(_decompress_any(f.read()))


def read_rda(path):
    """An .rda/.RData file: compressed 'RDX2\\n'/'RDX3\\n' + a pairlist of (name, value)."""
    with open(path, "rb") as f:
        data = _decompress_any(f.read())
    if data[:5] not in (b"RDX2\n", b"RDX3\n"):
        raise RDataError("%s: not an R save file (magic %r)" % (path, data[:5]))
    obj = unserialize(data[5:])
    return dict(obj)


def _rdb_blob(blob):
    """One lazy-load database entry: 4-byte big-endian length, then zlib / typed compression."""
    if len(blob) < 5:
        raise RDataError("lazy-load entry too short")
    outlen = struct.unpack(">I", blob[:4])[0]
    t = blob[4:5]
    if t == b"Z":
        out = lzma.decompress(blob[5:])
    elif t == b"2":
        out = bz2.decompress(blob[5:])
    elif t == b"0":
        out = blob[5:]
    else:
        out = zlib.decompress(blob[4:])
    if len(out) != outlen:
        raise RDataError("lazy-load entry: length %d, header says %d" % (len(out), outlen))
    return out


def read_lazyload(prefix):
    """Read every variable of a lazy-load DB (prefix.rdx index + prefix.rdb data) -> dict."""
    rdx = read_rds(prefix + ".rdx")
    index = dict(zip(rdx.attrs.get("names", []), rdx))
    with open(prefix + ".rdb", "rb") as f:
        db = f.read()
    out = {}
    names = index["variables"].attrs.get("names", [])
    for name, loc in zip(names, index["variables"]):
        off, ln = int(loc[0]), int(loc[1])
        if off < 0 or ln < 0 or off + ln > len(db):
            raise RDataError("%s.rdb: entry %s at %d+%d runs past the file (%d bytes)"
                             % (prefix, name, off, ln, len(db)))
        out[name] = unserialize(_rdb_blob(db[off:off + ln]))
    return out
