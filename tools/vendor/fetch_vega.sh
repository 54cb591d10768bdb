#!/usr/bin/env bash
# fetch_vega.sh — vendor the charting library that `lmscope report` inlines into its HTML page.
#
#   tools/vendor/fetch_vega.sh            # fetch, verify, copy into data/vendor/ (+ licences, VERSIONS)
#   tools/vendor/fetch_vega.sh --check    # only verify data/vendor/ against the pinned sha256 (no network)
#
# Gets vega, vega-lite and vega-embed from the npm registry with `npm pack NAME@VERSION` (exact
# versions), checks each tarball's sha256 against the value pinned below, and copies the minified
# browser builds (UMD: they define window.vega, window.vegaLite, window.vegaEmbed) into data/vendor/,
# their BSD-3-Clause licences into data/LICENSES/, and data/vendor/VERSIONS (name, version, sha256 of
# the tarball and of the copied file). The copies are committed: building and running lmscope never
# touches the network. Run this only to upgrade (change the versions and pins together).
#
# Why vega 6: its npm package still ships the standalone UMD builds (build/vega.min.js etc.), so no
# bundler is needed. Leaves out: vega's optional extras (vega-themes, tooltips beyond vega-embed's).
set -euo pipefail
cd "$(dirname "$0")/../.."

# name version tarball-sha256 file-in-package
PINS=(
  "vega 6.4.0 3521fb6ff68a94a40323954f0ba4484ba4014b157bfd37f89a3b063082320c42 build/vega.min.js"
  "vega-lite 6.5.0 811230a6bfd2cdbfc359d0c38f624a90df86657b7f251b67be88bcc4eee32b7f build/vega-lite.min.js"
  "vega-embed 7.3.0 d9a958ced3240f0418df7d5e12e97dba6e63cecda15b8403e47a0db7eb6ea859 build/vega-embed.min.js"
)
OUT=data/vendor
LIC=data/LICENSES

if [ "${1:-}" = "--check" ]; then
  [ -f "$OUT/VERSIONS" ] || { echo "fetch_vega: $OUT/VERSIONS is missing; run tools/vendor/fetch_vega.sh" >&2; exit 1; }
  # VERSIONS lines: name version tarball-sha256 file file-sha256
  grep -v '^#' "$OUT/VERSIONS" | while read -r name ver tsha file fsha; do
    got=$(sha256sum "$OUT/$file" | cut -d' ' -f1)
    [ "$got" = "$fsha" ] || { echo "fetch_vega: $OUT/$file: sha256 $got, VERSIONS says $fsha" >&2; exit 1; }
  done
  echo "fetch_vega: data/vendor matches VERSIONS"
  exit 0
fi

command -v npm >/dev/null || { echo "fetch_vega: npm is needed (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$OUT" "$LIC"
{
  echo "# name version tarball-sha256 file file-sha256 (written by tools/vendor/fetch_vega.sh)"
  for pin in "${PINS[@]}"; do
    read -r name ver sha file <<<"$pin"
    (cd "$tmp" && npm pack --silent "$name@$ver" >/dev/null)
    tgz="$tmp/$name-$ver.tgz"
    got=$(sha256sum "$tgz" | cut -d' ' -f1)
    if [ "$got" != "$sha" ]; then
      echo "fetch_vega: $name@$ver: tarball sha256 $got, pinned $sha — refusing to vendor it" >&2
      exit 1
    fi
    mkdir -p "$tmp/$name"
    tar xzf "$tgz" -C "$tmp/$name" "package/$file" package/LICENSE
    base=$(basename "$file")
    cp "$tmp/$name/package/$file" "$OUT/$base"
    { echo "$name $ver (npm registry, tarball sha256 $sha): data/vendor/$base is package/$file, unmodified."
      echo "Licence: BSD-3-Clause. The package's LICENSE file, verbatim:"; echo
      cat "$tmp/$name/package/LICENSE"; } >"$LIC/$name.txt"
    echo "$name $ver $sha $base $(sha256sum "$OUT/$base" | cut -d' ' -f1)"
  done
} >"$tmp/VERSIONS"
mv "$tmp/VERSIONS" "$OUT/VERSIONS"
echo "fetch_vega: vendored into $OUT:" >&2
cat "$OUT/VERSIONS" >&2
