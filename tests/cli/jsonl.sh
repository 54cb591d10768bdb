#!/usr/bin/env bash
# jsonl.sh — JSON Lines text as input to 'data prepare' and 'tokenizer train', against the .txt
# route on the same documents: byte-identical shards (one file, a directory, --text-field with
# --domain-field splitting one file into the domains), the same merges (JSON Lines documents =
# one .txt file per document; mixed with a .txt file), escapes decoded (\n, \u00e9, surrogate
# pairs), blank lines skipped; bad lines exit 1 with FILE:LINE and what is wrong, leaving no
# output directory; --skip-bad-lines skips them with warnings; 32 MB prepares under 64 MB.
. "$(dirname "$0")/lib.bash"
cli_setup jsonl

# Two domains of documents with newlines, tabs, quotes, backslashes, accents and emoji; as .txt
# (separator lines), as JSON Lines (ASCII escapes, blank lines between), one .txt per document,
# and one dump with another text field and a domain field, the domains interleaved.
mkdir -p "$D/c" "$D/j" "$D/m" "$D/per"
python3 - "$D" <<'PY'
import json, random, sys
d = sys.argv[1]
random.seed(7)
w = ('the a cat dog sat ran on in park mat caf\u00e9 na\u00efve \U0001F600 \u65e5\u672c "quoted" back\\slash '
     'tab\there line\nbreak it\'s 42 3.5').split(' ')
docs = {dom: [' '.join(random.choice(w) for _ in range(random.randint(5, 150))).strip() for _ in range(40)]
        for dom in ['news', 'stories']}
rows = []
for dom, ds in docs.items():
    open(f'{d}/c/{dom}.txt', 'w').write('\n<|endoftext|>\n'.join(ds) + '\n')
    with open(f'{d}/j/{dom}.jsonl', 'w') as f:
        for i, t in enumerate(ds):
            f.write(json.dumps({'id': i, 'text': t}) + ('\n\n' if i % 7 == 0 else '\n'))
            open(f'{d}/per/{dom}_{i:03d}.txt', 'w').write(t)
            rows.append((dom, t))
it = {dom: iter(ds) for dom, ds in docs.items()}
left = {dom: len(ds) for dom, ds in docs.items()}
with open(f'{d}/m/dump.ndjson', 'w') as f:
    while any(left.values()):
        dom = random.choice([k for k, v in left.items() if v])
        left[dom] -= 1
        f.write(json.dumps({'content': next(it[dom]), 'src': dom, 'text': 'not this'}, ensure_ascii=False) + '\n')
PY
grep -q '\\u00e9' "$D/j/news.jsonl" && grep -q '\\ud83d\\ude00' "$D/j/news.jsonl" || fail "the JSON Lines file lacks the escapes under test"

# tokenizer train: JSON Lines = its documents as texts, also mixed with a .txt file
"$L" tokenizer train --vocab-size 500 --threads 2 --out "$D/tj" "$D/j/news.jsonl" "$D/j/stories.jsonl" >/dev/null 2>&1 || fail "tokenizer train on JSON Lines"
"$L" tokenizer train --vocab-size 500 --threads 2 --out "$D/tp" "$D"/per/*.txt >/dev/null 2>&1 || fail "tokenizer train on .txt"
cmp -s "$D/tj/merges.txt" "$D/tp/merges.txt" || fail "JSON Lines merges differ from the same documents as .txt files"
[ "$(wc -l <"$D/tj/merges.txt")" -gt 50 ] || fail "too few merges to compare: $(wc -l <"$D/tj/merges.txt")"
"$L" tokenizer train --vocab-size 500 --threads 2 --out "$D/tm" "$D/j/news.jsonl" "$D/c/stories.txt" >/dev/null 2>&1 || fail "tokenizer train on mixed inputs"
"$L" tokenizer train --vocab-size 500 --threads 2 --out "$D/tq" "$D"/per/news_*.txt "$D/c/stories.txt" >/dev/null 2>&1 || fail "tokenizer train on .txt (mixed)"
cmp -s "$D/tm/merges.txt" "$D/tq/merges.txt" || fail "mixed JSON Lines + .txt merges differ"
"$L" tokenizer train --vocab-size 500 --threads 2 --text-field content --out "$D/td" "$D/m/dump.ndjson" >/dev/null 2>&1 || fail "tokenizer train --text-field"
cmp -s "$D/td/merges.txt" "$D/tp/merges.txt" || fail "--text-field content: merges differ"

# data prepare: the same shards byte for byte
same_shards() { # DIR_A DIR_B: every shard file equal, the manifests equal but for "source"
  local f n=0
  for f in "$1"/*.bin; do cmp -s "$f" "$2/$(basename "$f")" || fail "$(basename "$f") differs between $1 and $2"; n=$((n + 1)); done
  [ "$n" -ge "${3:-4}" ] || fail "only $n shard files in $1"
  [ "$(ls "$2"/*.bin | wc -l)" = "$n" ] || fail "$2 has other shard files"
  diff <(grep -v '"source"' "$1/manifest.json") <(grep -v '"source"' "$2/manifest.json") >/dev/null || fail "manifests differ: $1 $2"
}
"$L" data prepare --tokenizer "$D/tp" --out "$D/st" --val-docs 3 "$D/c" >/dev/null 2>&1 || fail "prepare .txt"
out=$("$L" data prepare --tokenizer "$D/tp" --out "$D/sj" --val-docs 3 "$D/j" 2>&1) || fail "prepare JSON Lines: $out"
grep -Eq '^news +37 +3 ' <<<"$out" || fail "prepare JSON Lines: not 37 + 3 news documents: $out"
same_shards "$D/st" "$D/sj"
grep -q '"source": "news.jsonl"' "$D/sj/manifest.json" || fail "manifest source"
"$L" data prepare --tokenizer "$D/tp" --out "$D/sd" --val-docs 3 --text-field content --domain-field src "$D/m/dump.ndjson" >/dev/null 2>&1 || fail "prepare --text-field --domain-field"
same_shards "$D/st" "$D/sd"
"$L" data prepare --out "$D/s1" "$D/c/news.txt" >/dev/null 2>&1 && "$L" data prepare --out "$D/s2" "$D/j/news.jsonl" >/dev/null 2>&1 || fail "prepare one file"
same_shards "$D/s1" "$D/s2" 2
"$L" data prepare --help | grep -q -- '--text-field' || fail "--help lacks --text-field"
"$L" tokenizer train --help | grep -q -- '--skip-bad-lines' || fail "tokenizer train --help lacks --skip-bad-lines"

# bad lines: exit 1, FILE:LINE and what is wrong, no output directory
bad_line() { # LINE PATTERN [FLAGS...]
  local line=$1 pat=$2; shift 2
  printf '{"text": "fine"}\n\n%s\n{"text": "fine"}\n' "$line" >"$D/bad.jsonl"
  expect 1 "bad.jsonl:3: $pat" data prepare --out "$D/nope" "$@" "$D/bad.jsonl"
  [ ! -e "$D/nope" ] || fail "prepare left $D/nope behind after: $line"
  expect 1 "bad.jsonl:3: $pat" tokenizer train --out "$D/nope" "$@" "$D/bad.jsonl"
  [ ! -e "$D/nope" ] || fail "tokenizer train left $D/nope behind after: $line"
}
bad_line 'not json' 'not valid JSON'
bad_line '["a"]' 'an array, not an object'
bad_line '{"body": "a"}' 'no "text" field (the object has "body"; name the field with --text-field)'
bad_line '{"text": 3}' 'the "text" field is a number, not a string'
bad_line '{"text": "a\ud800"}' 'not valid JSON (invalid Unicode'
bad_line $'{"text": "\xff"}' 'not valid JSON (unable to decode byte 0xff'
bad_line '{"text": "a", "text": "b"}' 'not valid JSON (duplicate object key'
expect 1 'news.jsonl:1: no "body" field (the object has "id", "text"; name the field with --text-field)' data prepare --out "$D/nope" --text-field body "$D/j/news.jsonl"
printf '{"text": "a", "src": "news"}\n{"text": "b", "src": "a/b"}\n' >"$D/dom.jsonl"
expect 1 'dom.jsonl:2: the domain "a/b" is not a domain name' data prepare --out "$D/nope" --domain-field src "$D/dom.jsonl"
expect 1 'dom.jsonl:1: no "source" field' data prepare --out "$D/nope" --domain-field source "$D/dom.jsonl"
[ ! -e "$D/nope" ] || fail "prepare left $D/nope behind"
cp "$D/c/news.txt" "$D/m/news.txt"
expect 1 "domain 'news' is given both by" data prepare --out "$D/nope" --domain-field src --text-field content "$D/m"
[ ! -e "$D/nope" ] || fail "prepare left $D/nope behind after a domain clash"

# --skip-bad-lines: warned with FILE:LINE, the good documents kept
printf '{"text": "one two"}\n[1]\n{"text": 5}\n{"text": "three four"}\n' >"$D/some.jsonl"
err=$("$L" data prepare --out "$D/sk" --skip-bad-lines "$D/some.jsonl" 2>&1 >"$D/out") || fail "--skip-bad-lines: $err"
grep -q 'some.jsonl:2: an array' <<<"$err" && grep -q 'some.jsonl:3: the "text" field is a number' <<<"$err" || fail "--skip-bad-lines warnings: $err"
grep -Eq '^some +1 +1 ' "$D/out" || fail "--skip-bad-lines: not 1 + 1 documents: $(cat "$D/out")"
"$L" tokenizer train --vocab-size 300 --skip-bad-lines --out "$D/tk" "$D/some.jsonl" >/dev/null 2>&1 || fail "tokenizer train --skip-bad-lines"
expect 1 "is JSON Lines, which only 'data prepare' and 'tokenizer train' read" data stats "$D/j/news.jsonl"
printf '\n{"text": " "}\n' >"$D/empty.jsonl"
expect 1 'no usable documents' data prepare --out "$D/nope" "$D/empty.jsonl"
expect 2 'holds no documents' tokenizer train --out "$D/nope" "$D/empty.jsonl"

# streamed: 32 MB of JSON Lines prepares in bounded memory, as 32 MB of .txt does (tests/cli/data.sh)
mkdir -p "$D/big"
/usr/bin/python3 - "$D/big/books.jsonl" <<'PY'
import json, sys
words = "the of and to in that it was he for on are as with his they at be this from".split()
base = " ".join(words[(i * 7) % len(words)] for i in range(20000))
with open(sys.argv[1], "w") as f:
    for d in range(400):  # 400 documents of ~80 KB, then one of 1 MB with no place to cut
        f.write(json.dumps({"text": "document %d:\n%s" % (d, base)}) + "\n")
    f.write(json.dumps({"text": "x" * 1000000}) + "\n")
PY
rss=$(/usr/bin/python3 -c '
import resource, subprocess, sys
subprocess.run([sys.argv[1], "data", "prepare", "--out", sys.argv[2], "--shard-tokens", "10000000", sys.argv[3]], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' "$L" "$D/bigs" "$D/big") || fail "prepare of 32 MB of JSON Lines"
if ldd "$L" 2>/dev/null | grep -q libasan; then echo "prepare of 32 MB of JSON Lines: peak $rss MB not checked under AddressSanitizer"
elif [ -z "$rss" ] || [ "$rss" -ge 64 ]; then fail "prepare of 32 MB of JSON Lines peaks at ${rss:-?} MB (want < 64)"; fi
[ "$(cat "$D"/bigs/books_*.bin | wc -c)" -gt 60000000 ] || fail "prepare of 32 MB of JSON Lines: shards missing"
echo "jsonl: ok (32 MB of JSON Lines prepared at a peak of $rss MB)"
