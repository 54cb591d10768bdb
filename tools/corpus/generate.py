"""Generated training text: arithmetic, counting, calendar facts; and the held-out problems.

What it does: a fixed held-out set of arithmetic problems (chosen by a seeded RNG, recipe
independent) that the generator never emits in any wording, and documents of arithmetic,
counting and date facts drawn from the remaining problems. `problems_in(text)` parses every
problem the generator's wordings can express, so the build can prove the held-out set is absent.

What it leaves out: word problems, fractions, anything beyond integer + - * and calendar names.
"""
import random
import re

SEED_HELDOUT = 20240601
SEED_TRAIN = 7

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NUM_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
             "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
             "eighteen", "nineteen", "twenty"]

OPS = {"+": ("plus", lambda a, b: a + b), "-": ("minus", lambda a, b: a - b),
       "*": ("times", lambda a, b: a * b)}
WORD_OP = {v[0]: k for k, v in OPS.items()}


def _space():
    """Every problem the generator may draw: (op, a, b)."""
    out = []
    for a in range(100):
        for b in range(100):
            out.append(("+", a, b))
            if a >= b:
                out.append(("-", a, b))
    for a in range(13):
        for b in range(13):
            out.append(("*", a, b))
    for a in range(10, 100):
        for b in range(2, 10):
            out.append(("*", a, b))
    return out


def heldout():
    """The held-out problems: 300 additions, 200 subtractions, 100 multiplications."""
    rng = random.Random(SEED_HELDOUT)
    space = _space()
    picks = []
    for op, n in (("+", 300), ("-", 200), ("*", 100)):
        cand = [p for p in space if p[0] == op and (op != "*" or p[1] >= 2 and p[2] >= 2)]
        picks += sorted(rng.sample(cand, n))
    return [{"op": op, "a": a, "b": b, "prompt": "%d %s %d =" % (a, op, b),
             "answer": str(OPS[op][1](a, b))} for op, a, b in picks]


def _fmt(rng, op, a, b):
    c = OPS[op][1](a, b)
    if rng.random() < 0.75:
        return "%d %s %d = %d" % (a, op, b, c)
    return "What is %d %s %d? %d." % (a, OPS[op][0], b, c)


_SYM_RE = re.compile(r"(?<![\d.])(\d+) ([-+*]) (\d+) =")
_WORD_RE = re.compile(r"What is (\d+) (plus|minus|times) (\d+)\?")


def problems_in(text):
    """Every (op, a, b) that appears in `text` in one of the generator's wordings."""
    found = set()
    for m in _SYM_RE.finditer(text):
        found.add((m.group(2), int(m.group(1)), int(m.group(3))))
    for m in _WORD_RE.finditer(text):
        found.add((WORD_OP[m.group(2)], int(m.group(1)), int(m.group(3))))
    return found


def arithmetic_docs(n_problems, seed=SEED_TRAIN):
    """-> list of document texts: arithmetic drills, counting, calendar facts."""
    held = {(h["op"], h["a"], h["b"]) for h in heldout()}
    pool = [p for p in _space() if p not in held]
    rng = random.Random(seed)
    docs = []
    probs = [pool[rng.randrange(len(pool))] for _ in range(n_problems)]
    for i in range(0, len(probs), 40):
        docs.append("\n".join(_fmt(rng, *p) for p in probs[i:i + 40]))
    # counting
    n_count = max(4, n_problems // 60)
    for _ in range(n_count):
        start = rng.randrange(0, 200)
        step = rng.choice([1, 1, 1, 2, 5, 10])
        seq = [start + step * k for k in range(rng.randrange(5, 16))]
        lines = ["Counting by %d from %d: %s." % (step, start, ", ".join(map(str, seq)))]
        if start <= 20 - 5 and step == 1:
            lines.append("In words: %s." % ", ".join(NUM_WORDS[x] for x in seq if x <= 20))
        back = list(reversed(seq))
        lines.append("Counting down: %s." % ", ".join(map(str, back)))
        docs.append("\n".join(lines))
    # calendar
    cal = []
    for i, m in enumerate(MONTHS):
        cal.append("%s is month number %d of the year. It has %d days%s." %
                   (m, i + 1, MONTH_DAYS[i], " (29 in a leap year)" if i == 1 else ""))
        cal.append("The month after %s is %s." % (m, MONTHS[(i + 1) % 12]))
    for i, d in enumerate(DAYS):
        cal.append("The day after %s is %s." % (d, DAYS[(i + 1) % 7]))
        cal.append("The day before %s is %s." % (d, DAYS[(i - 1) % 7]))
    docs.append("\n".join(cal))
    n_years = max(10, n_problems // 40)
    lines = []
    for _ in range(n_years):
        y = rng.randrange(1700, 2100)
        leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
        lines.append("The year after %d is %d. %d %s a leap year." % (y, y + 1, y, "is" if leap else "is not"))
    for i in range(0, len(lines), 40):
        docs.append("\n".join(lines[i:i + 40]))
    return docs
