#!/usr/bin/env bash
# deps.sh — check (and, as root on Debian, install) the packages lmscope needs.
#   tools/deps.sh           build + test prerequisites
#   tools/deps.sh --bench   also what the benchmarks compare against (python3-torch, node; python3-regex
#                           for tools/tokenizer/pretok_diff.sh)
#   tools/deps.sh --test    also node + npm for tests/cli/serve.sh (Debian's nodejs npm, only when there
#                           is no node at all, so a NodeSource or nvm node stays), and its OpenAI client
#                           (npm ci --prefix tests/serve)
# Open MPI (libopenmpi-dev openmpi-bin) is optional: installed as root, otherwise only mentioned;
# without it the build has no MPI (the Makefile looks for mpicc) and tests/cli/mpi.sh skips.
set -euo pipefail
pkgs=(gcc make libopenblas-openmp-dev libpcre2-dev libjansson-dev libmicrohttpd-dev libssl-dev libgsl-dev libsqlite3-dev xz-utils
      python3)
if [ "$(id -u)" = 0 ]; then pkgs+=(libopenmpi-dev openmpi-bin)
elif ! command -v mpicc >/dev/null; then echo "deps: no Open MPI: building without MPI (sudo apt-get install libopenmpi-dev openmpi-bin adds it)" >&2; fi
[ "${1:-}" = "--bench" ] && pkgs+=(python3-torch python3-numpy nodejs npm python3-regex)
[ "${1:-}" = "--test" ] && ! command -v node >/dev/null && pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  # NodeSource's nodejs package bundles npm, and then Debian's npm cannot be installed beside it
  [ "$p" = npm ] && command -v npm >/dev/null && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# the OpenAI client that tests/cli/serve.sh drives (the test installs it too when it is missing)
serve_client() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/serve"
  [ "${1:-}" = "--test" ] && command -v npm >/dev/null && [ ! -f "$dir/node_modules/openai/package.json" ] &&
    npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund >&2
  return 0
}
if [ ${#missing[@]} -eq 0 ]; then serve_client "${1:-}"; exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  serve_client "${1:-}"
else
  echo "deps: missing Debian packages: ${missing[*]}" >&2
  echo "deps: install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
