"""Pack / unpack the committed small corpus deterministically.

Usage: pack.py pack DIR OUT.tar.xz     (the *.txt and MANIFEST.json of DIR, sorted, fixed
                                         metadata, xz preset 9e: same input -> same bytes)
       pack.py unpack IN.tar.xz DIR    (extracts into DIR; refuses members with paths)

What it leaves out: anything but regular files at the top level of the archive.
"""
import io
import lzma
import os
import sys
import tarfile


def pack(src, out):
    names = sorted(f for f in os.listdir(src) if f.endswith(".txt") or f == "MANIFEST.json")
    if not names:
        raise SystemExit("pack: no .txt files in %s" % src)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for n in names:
            with open(os.path.join(src, n), "rb") as f:
                data = f.read()
            ti = tarfile.TarInfo("corpus/" + n)
            ti.size, ti.mtime, ti.mode = len(data), 0, 0o644
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            tar.addfile(ti, io.BytesIO(data))
    xz = lzma.compress(buf.getvalue(), format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64,
                       preset=9 | lzma.PRESET_EXTREME)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(xz)
    os.replace(tmp, out)
    print("pack: %s: %d files, %d bytes -> %d bytes xz" % (out, len(names), len(buf.getvalue()), len(xz)))


def unpack(src, dst):
    os.makedirs(dst, exist_ok=True)
    with tarfile.open(src, "r:xz") as tar:
        for m in tar.getmembers():
            base = os.path.basename(m.name)
            if not m.isfile() or m.name != "corpus/" + base or base.startswith("."):
                raise SystemExit("unpack: unexpected member %r in %s" % (m.name, src))
            data = tar.extractfile(m).read()
            tmp = os.path.join(dst, base + ".tmp")
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, os.path.join(dst, base))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("pack", "unpack"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    (pack if sys.argv[1] == "pack" else unpack)(sys.argv[2], sys.argv[3])
