#!/usr/bin/env bash
# readme.sh — the README's command list is the one `lmscope --help` prints: the same commands, in
# the same order, with the same one-line descriptions; every command (and every subcommand a
# description names, e.g. `data synth`) has a `lmscope CMD` example in the README; and every
# command's own --help works. Keeps the README from drifting as commands are added.
set -u
. "$(dirname "$0")/lib.bash"
cli_setup readme
T=$D
root="$(cd "$(dirname "$0")/../.." && pwd)"
README="$root/README.md"
fails=0
miss() { echo "FAIL $*"; fails=$((fails + 1)); } # every miss is listed, not only the first

"$L" --help >"$T/help" 2>&1 || miss "lmscope --help exited non-zero"
# "  name   description" lines after "commands:"
awk '/^commands:/{f=1; next} f && /^  [a-z]/{n=$1; $1=""; sub(/^ +/, ""); print n "\t" $0}' "$T/help" >"$T/from_help"
# "- `name` — description" lines of the README's list (between "The commands, as" and the next heading)
awk '/^The commands, as `lmscope --help` lists them/{f=1; next} f && /^#/{exit}
     f && /^- `[a-z]+` — /{l=$0; sub(/^- `/, "", l); n=l; sub(/`.*/, "", n); sub(/^[a-z]+` — /, "", l); print n "\t" l}' \
  "$README" >"$T/from_readme"
[ -s "$T/from_help" ] || miss "no commands found in lmscope --help"
[ -s "$T/from_readme" ] || miss "no command list found in README.md (the list after 'The commands, as \`lmscope --help\` lists them')"
if ! diff -u "$T/from_help" "$T/from_readme" >"$T/diff"; then
  miss "README.md's command list differs from lmscope --help (- help, + README):"
  sed 's/^/    /' "$T/diff"
fi

# every command has an example "lmscope NAME" (./lmscope, build-cuda/lmscope, ...) in the README,
# and so does every subcommand its description lists as "a | b | c"
while IFS=$'\t' read -r name desc; do
  grep -qE "lmscope $name( |\$)" "$README" || miss "README.md has no example of 'lmscope $name'"
  subs=$(grep -oE '[a-z]+( \| [a-z]+)+' <<<"$desc" | tr -d ' ' | tr '|' '\n')
  for s in $subs; do
    grep -qE "lmscope $name $s( |\$)" "$README" || miss "README.md has no example of 'lmscope $name $s'"
  done
  [ "$name" = version ] && continue
  "$L" "$name" --help >"$T/h" 2>&1 || miss "lmscope $name --help exited non-zero"
  [ -s "$T/h" ] || miss "lmscope $name --help printed nothing"
done <"$T/from_help"

n=$(wc -l <"$T/from_help")
[ "$fails" -eq 0 ] && echo "ok: the README lists the same $n commands as lmscope --help, each with an example"
[ "$fails" -eq 0 ]
