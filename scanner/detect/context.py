"""The name a secret is assigned to, as a short redacted context for every output (ARCHITECTURE.md
§7, issue 10): `apiKey: …`, `OPENAI_API_KEY = …`, `Authorization: Bearer …`. Pure: the bytes just
before a match in, a display text out; the value itself is never part of it.

Minifiers rename variables but keep property names, header names and env names in maps, so the
name is usually what survives in a bundle. A context is only ever a name made of words: a name
that has a secret's shape, that is the tail of a longer token (`…/+Ab3dEf: …`, a base64 secret
cut at its last `/`), or that a rule matched (the engine passes the spans it found) is not shown —
keys are sometimes themselves names (a YAML mapping keyed by keys). When in doubt, no context.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

WINDOW = 160  # bytes before the match that can hold the name, operator, quote and a scheme word
MAX_NAME = 64
_NAME_PART = 20
FAR = 16384

_BEFORE = re.compile(
    rb"(?<![A-Za-z0-9_$.\-])(?P<name>[A-Za-z_$][A-Za-z0-9_$.\-]{0,63})"
    rb"(?P<nq>\\?[\"'`]\]?|\])?[ \t]*(?P<op>:=|=>|=|:|,|\()[ \t]*"
    rb"(?P<vq>\\?[\"'`])?(?P<pre>(?:Bearer|Token|Basic|Key|Api-Key)[ \t]+)?\Z",
    re.I,
)
# a header name that carries a credential (`x-api-key`, `Authorization`); a hyphen alone is no
# header (`fetchChat("acme-chat-demo", key)`: a call's earlier argument)
_HEADERISH = re.compile(r"key|token|auth|secret|bearer|credential", re.I)
_SEP = {b":": ": ", b"=": " = ", b":=": " := ", b"=>": " => ", b",": ", ", b"(": "("}


def _wordy(name: str) -> bool:
    """A name made of words, not a value: short parts with few digits."""
    if len(name) > MAX_NAME:
        return False
    for part in re.split(r"[._\-$]+", name):
        if len(part) > _NAME_PART or sum(c.isdigit() for c in part) > 3:
            return False
    return True


_GLUE = frozenset(b"/+=%~\\")  # what joins a name to a token it ends (base64, URL-encoded, `\/`)
_ALNUM = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_LONG_WORD = 15  # longer than any word of a real name (AUTHENTICATION: 14), shorter than a key's run
_VOWELS = frozenset("aeiouAEIOU")
_ODD = 3  # digit runs and one- or two-letter words in one part of a name: `zgVLCU8RAIQxBr9OU7vB`


def _tail_of_token(data: bytes, at: int) -> bool:
    """Whether the name starting at `at` ends a longer token (`…8kZ/FA1NWoii`): the glue before it
    reaches back to a letter or digit."""
    k = at
    while k > 0 and data[k - 1] in _GLUE:
        k -= 1
    return k < at and k > 0 and data[k - 1] in _ALNUM


_COMMON_SHORT = frozenset({"id", "db", "io", "ui", "js", "ai", "my", "to", "of", "on"})


def _odd(word: str) -> bool:
    """A digit run, a one- or two-letter word (but `Id`, `db`, …), or a lowercase or Capitalized
    word of three or more letters with no vowel (`Xhrp`; acronyms are in capitals: `API`)."""
    if word.isdigit():
        return True
    if len(word) <= 2:
        return word.lower() not in _COMMON_SHORT
    return not word.isupper() and not any(c in _VOWELS for c in word)


def _secret_shaped(name: str) -> bool:
    """A name that reads as a value rather than words: a long run of letters with few vowels
    (`QWRTZKPLMNBVCXSD`), or a part of eight or more characters broken into odd pieces (a key's
    random body: `zgVLCU8RAIQxBr9OU7vB`), or four or more equal dash-joined groups with a digit
    (a generated key: `XXXXXXX-XXXXXXX-XXXXXXX-XXXXXXX`, each group too short for the rest)."""
    groups = name.split("-")
    if (
        len(groups) >= 4
        and len({len(g) for g in groups}) == 1
        and len(groups[0]) >= 5
        and any(map(str.isdigit, name))
    ):
        return True
    for part in re.split(r"[._\-$]+", name):
        words = _WORD.findall(part)
        if any(len(w) >= _LONG_WORD and sum(c in _VOWELS for c in w) < 0.3 * len(w) for w in words):
            return True
        if len(part) >= 8 and sum(map(_odd, words)) >= _ODD:
            return True
    return False


def _overlaps(spans: Sequence[tuple[int, int]], lo: int, hi: int) -> bool:
    """Whether [lo, hi) overlaps any of `spans` (sorted by start; one that starts more than
    FAR bytes before `lo` is not looked at)."""
    i = bisect.bisect_left(spans, (hi, hi))
    while i > 0:
        i -= 1
        s, e = spans[i]
        if s < lo - FAR:
            return False
        if lo < e:
            return True
    return False


def _assignment(data: bytes, start: int) -> tuple[str, re.Match[bytes]] | None:
    window = data[max(0, start - WINDOW) : start]
    m = _BEFORE.search(window)
    if m is None:
        return None
    op = m.group("op")
    quoted_name = bool(m.group("nq"))
    if op in (b",", b"(") and not m.group("vq"):
        return None  # a bare argument: nothing says what it is
    name = m.group("name").decode("ascii", "replace").strip(".-")
    if not name or not _wordy(name):
        return None
    if op == b"," and not (quoted_name and _HEADERISH.search(name)):
        return None  # a list item or a call's earlier argument, not a (header, value) pair
    return name, m


def assigned_name(data: bytes, start: int) -> str | None:
    """The bare name the span starting at `start` is assigned to (`XFYUN_API_KEY`), or None."""
    found = _assignment(data, start)
    return found[0] if found else None


def assigned_parts(data: bytes, start: int) -> tuple[str, bytes, bool] | None:
    """(name, operator, whether the value is quoted) of the assignment before `start`, or None."""
    found = _assignment(data, start)
    if found is None:
        return None
    name, m = found
    return name, m.group("op"), bool(m.group("vq"))


def assigned_to(data: bytes, start: int, taken: Sequence[tuple[int, int]] = ()) -> str | None:
    """`name: …` for the span starting at `start`, or None when no assignment precedes it or its
    name could be part of a secret: `taken` holds the spans (sorted) that rules matched."""
    found = _assignment(data, start)
    if found is None:
        return None
    name, m = found
    at = max(0, start - WINDOW) + m.start("name")
    if _tail_of_token(data, at) or _secret_shaped(name) or _overlaps(taken, at, at + len(m.group("name"))):
        return None
    op = m.group("op")
    pre = (m.group("pre") or b"").decode("ascii").strip()
    value = f"{pre} …" if pre else "…"
    if op == b"(":
        return f"{name}({value})"
    return f"{name}{_SEP[op]}{value}"


def construct(text: str, limit: int = 80) -> str:
    """An exposure's matched construct, whitespace-squashed and clipped, as its context."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# a whole line `Vercel API Key=…`: a name of words with single spaces, no space around `=`, one
# value and nothing after it (how people write keys into a .env.example by hand)
_SPACED_LINE = re.compile(rb"([A-Za-z][\w.]*(?: [A-Za-z][\w.]*){1,5})=([\"']?)[^\s\"']+\2[ \t]*\r?")


def spaced_name(data: bytes, start: int) -> str | None:
    """The name of a hand-written env line (`Vercel API Key=…`) whose value starts at `start`."""
    line_start = data.rfind(b"\n", 0, start) + 1
    end = data.find(b"\n", start)
    m = _SPACED_LINE.fullmatch(data, line_start, len(data) if end < 0 else end)
    if m is None or m.end(1) + 1 + len(m.group(2)) != start:
        return None
    return m.group(1).decode("ascii", "replace")
