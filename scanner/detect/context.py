"""The name a secret is assigned to, as a short redacted context for every output (ARCHITECTURE.md
§7, issue 10): `apiKey: …`, `OPENAI_API_KEY = …`, `Authorization: Bearer …`. Pure: the bytes just
before a match in, a display text out; the value itself is never part of it.

Minifiers rename variables but keep property names, header names and env names in maps, so the
name is usually what survives in a bundle. A name that looks like a value (a long mixed token, as
when keys are themselves property names) is not shown.
"""

from __future__ import annotations

import re

WINDOW = 160  # bytes before the match that can hold the name, operator, quote and a scheme word
MAX_NAME = 64
_NAME_PART = 20

_BEFORE = re.compile(
    rb"(?<![A-Za-z0-9_$.\-])(?P<name>[A-Za-z_$][A-Za-z0-9_$.\-]{0,63})"
    rb"(?P<nq>\\?[\"'`]\]?|\])?[ \t]*(?P<op>:=|=>|=|:|,|\()[ \t]*"
    rb"(?P<vq>\\?[\"'`])?(?P<pre>(?:Bearer|Token|Basic|Key|Api-Key)[ \t]+)?\Z",
    re.I,
)
_HEADERISH = re.compile(r"key|token|auth|secret|-", re.I)
_SEP = {b":": ": ", b"=": " = ", b":=": " := ", b"=>": " => ", b",": ", ", b"(": "("}


def _wordy(name: str) -> bool:
    """A name made of words, not a value: short parts with few digits."""
    if len(name) > MAX_NAME:
        return False
    for part in re.split(r"[._\-$]+", name):
        if len(part) > _NAME_PART or sum(c.isdigit() for c in part) > 3:
            return False
    return True


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
        return None  # a list item, not a (header, value) pair
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


def assigned_to(data: bytes, start: int) -> str | None:
    """`name: …` for the span starting at `start`, or None when no assignment precedes it."""
    found = _assignment(data, start)
    if found is None:
        return None
    name, m = found
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
