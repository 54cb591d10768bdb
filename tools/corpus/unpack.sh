#!/bin/sh
# unpack.sh -- unpack the committed small corpus (data/corpus-small.tar.xz) into data/corpus/.
# Idempotent: does nothing when data/corpus/ already matches the archive (a stamp file holds the
# archive's sha256). Used by `make corpus`. Needs /usr/bin/python3 (or python3) only.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
archive="$repo/data/corpus-small.tar.xz"
dst="$repo/data/corpus"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
[ -f "$archive" ] || { echo "unpack: $archive is missing (git checkout data/, or run tools/corpus/build.sh small)" >&2; exit 1; }
sum=$(sha256sum "$archive" | cut -d' ' -f1)
if [ -f "$dst/.stamp" ] && [ "$(cat "$dst/.stamp")" = "$sum" ]; then
  echo "unpack: $dst is up to date"
  exit 0
fi
rm -rf "$dst.tmp"
"$PY" "$here/pack.py" unpack "$archive" "$dst.tmp"
echo "$sum" > "$dst.tmp/.stamp"
rm -rf "$dst"
mv "$dst.tmp" "$dst"
echo "unpack: $(ls "$dst"/*.txt | wc -l) domain files in $dst"
