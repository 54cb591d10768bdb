#!/usr/bin/env python3
"""check.py -- validate probe suite files against docs/formats.md "Probe suites".

    python3 tools/suites/check.py data/suites          # every *.jsonl and *.csv in the directory
    python3 tools/suites/check.py FILE...

Each problem is printed as FILE:LINE: what; the exit status is 1 if there was any. Checked:
JSON Lines -- every non-blank line is a JSON object with a string `context` and either `choices`
(array of >= 2 strings) with an integer `answer` indexing it, or a string `target`; `kind` one of
mc/gen/seq and consistent with those fields; `meta` an object; no other keys. ISP CSV -- header
with prompt, classes, answer_index; `classes` a Python list literal of strings; `answer_index` an
integer in range. Both -- non-empty context; no empty choice, choices distinct, each choice and
target starting with a space (the built-in suites' convention); no duplicate item; item text
(context + longest choice or target) within the byte limit; right answers spread evenly over the
choice positions (counts differ by at most one); at least MIN_ITEMS items unless the suite is
listed in EXCEPTIONS. Leaves out: tokenisation (a choice that tokenizes to nothing is the
scorer's check).
"""
import ast
import csv
import json
import os
import sys

MIN_ITEMS = 50
MAX_BYTES = 360     # tools/suites/build.py MAX_BYTES
EXCEPTIONS = {}     # suite name -> why it may have fewer than MIN_ITEMS items (none today)
KEYS = {"context", "choices", "answer", "target", "kind", "meta"}


def check_item(it, where, err):
    """Check one item (dict); report through err(where, msg). Returns (n_choices, answer) or None."""
    if not isinstance(it, dict):
        return err(where, "not a JSON object")
    extra = set(it) - KEYS
    if extra:
        err(where, "unknown field(s) %s" % ", ".join(sorted(extra)))
    ctx = it.get("context")
    if not isinstance(ctx, str) or not ctx:
        return err(where, "`context` must be a non-empty string")
    kind = it.get("kind", "mc" if "choices" in it else None)
    if kind not in ("mc", "gen", "seq"):
        return err(where, "`kind` must be mc, gen or seq (got %r)" % (kind,))
    if "meta" in it and not isinstance(it["meta"], dict):
        err(where, "`meta` must be an object")
    if kind == "mc":
        ch, ans = it.get("choices"), it.get("answer")
        if "target" in it:
            err(where, "a multiple-choice item has no `target`")
        if not isinstance(ch, list) or len(ch) < 2 or not all(isinstance(c, str) for c in ch):
            return err(where, "`choices` must be an array of >= 2 strings")
        if any(not c for c in ch):
            return err(where, "empty choice")
        if len(set(ch)) != len(ch):
            return err(where, "choices are not distinct")
        if any(not c[0].isspace() for c in ch):
            err(where, "a choice does not start with its leading space")
        if isinstance(ans, bool) or not isinstance(ans, int) or not 0 <= ans < len(ch):
            return err(where, "`answer` must be an integer index into `choices` (got %r)" % (ans,))
        longest = max(ch, key=lambda c: len(c.encode("utf-8")))
        key = (len(ch), ans)
    else:
        t = it.get("target")
        if "choices" in it or "answer" in it:
            err(where, "a %s item has `target`, not `choices`/`answer`" % kind)
        if not isinstance(t, str) or not t:
            return err(where, "`target` must be a non-empty string")
        if not t[0].isspace():
            err(where, "`target` does not start with its leading space")
        longest, key = t, (0, 0)
    if len((ctx + longest).encode("utf-8")) > MAX_BYTES:
        err(where, "item is over %d bytes" % MAX_BYTES)
    return key


def read_items(path, err):
    """[(line number, item dict or None)] of a suite file."""
    out = []
    if path.endswith(".csv"):
        with open(path, encoding="utf-8", newline="") as f:
            rd = csv.DictReader(f)
            missing = {"prompt", "classes", "answer_index"} - set(rd.fieldnames or [])
            if missing:
                err("%s:1" % path, "CSV header lacks %s" % ", ".join(sorted(missing)))
                return out
            for r in rd:
                where = "%s:%d" % (path, rd.line_num)
                try:
                    classes = ast.literal_eval(r["classes"])
                    ai = int(r["answer_index"])
                except (ValueError, SyntaxError):
                    err(where, "`classes` is not a list literal or `answer_index` not an integer")
                    out.append((rd.line_num, None))
                    continue
                out.append((rd.line_num, {"context": r["prompt"], "choices": classes, "answer": ai}))
        return out
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                out.append((n, json.loads(line)))
            except ValueError as e:
                err("%s:%d" % (path, n), "not JSON (%s)" % e)
                out.append((n, None))
    return out


def check_file(path, err):
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        items = read_items(path, err)
    except UnicodeDecodeError:
        return err(path, "not UTF-8")
    seen, positions = {}, {}
    for n, it in items:
        if it is None:
            continue
        where = "%s:%d" % (path, n)
        key = check_item(it, where, err)
        if key is None:
            continue
        ident = json.dumps([it.get("context"), sorted(it.get("choices") or []), it.get("target")],
                           ensure_ascii=False)
        if ident in seen:
            err(where, "duplicate of line %d" % seen[ident])
        seen[ident] = n
        k, ans = key
        if k:
            positions.setdefault(k, [0] * k)[ans] += 1
    for k, counts in positions.items():
        if max(counts) - min(counts) > 1:
            err(path, "right answers unevenly placed over %d choices: %s" % (k, counts))
    if len(items) < MIN_ITEMS and name not in EXCEPTIONS:
        err(path, "%d items, fewer than %d (list it in check.py EXCEPTIONS with the reason)" % (len(items), MIN_ITEMS))
    return len(items)


def main(argv):
    if not argv:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    paths = []
    for a in argv:
        if os.path.isdir(a):
            paths += sorted(os.path.join(a, f) for f in os.listdir(a) if f.endswith((".jsonl", ".csv")))
        else:
            paths.append(a)
    problems = []

    def err(where, msg):
        problems.append("%s: %s" % (where, msg))
        return None

    total = 0
    for p in paths:
        total += check_file(p, err) or 0
    for p in problems[:50]:
        print(p)
    if len(problems) > 50:
        print("... and %d more" % (len(problems) - 50))
    print("check: %d files, %d items, %d problems" % (len(paths), total, len(problems)))
    return 1 if problems or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
