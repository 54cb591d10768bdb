#!/usr/bin/env bash
# deps.sh — check (and, as root on Debian, install) the packages lmscope needs.
#   tools/deps.sh           build + test prerequisites
#   tools/deps.sh --bench   also what the benchmarks compare against (python3-torch, node; python3-regex
#                           for tools/tokenizer/pretok_diff.sh)
# Open MPI (libopenmpi-dev openmpi-bin) is optional: installed as root, otherwise only mentioned;
# without it the build has no MPI (the Makefile looks for mpicc) and tests/cli/mpi.sh skips.
set -euo pipefail
pkgs=(gcc make libopenblas-openmp-dev libpcre2-dev libjansson-dev libssl-dev libgsl-dev libsqlite3-dev xz-utils python3)
if [ "$(id -u)" = 0 ]; then pkgs+=(libopenmpi-dev openmpi-bin)
elif ! command -v mpicc >/dev/null; then echo "deps: no Open MPI: building without MPI (sudo apt-get install libopenmpi-dev openmpi-bin adds it)" >&2; fi
[ "${1:-}" = "--bench" ] && pkgs+=(python3-torch python3-numpy nodejs npm python3-regex)
missing=()
for p in "${pkgs[@]}"; do
  # NodeSource's nodejs package bundles npm, and then Debian's npm cannot be installed beside it
  [ "$p" = npm ] && command -v npm >/dev/null && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  echo "deps: missing Debian packages: ${missing[*]}" >&2
  echo "deps: install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
