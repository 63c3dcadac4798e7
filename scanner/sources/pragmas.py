"""Which `keysweep:allow` pragmas the change under scan adds (`--range`, `--staged`).

A pragma is the ecosystem's way to say "not a secret"; one that the change itself adds is its
author approving their own key, which the suppress stage weighs by the trusted config
(`[pragmas] added-by-change`). A pragma-marked line of a blob the change introduces at a path is
compared, whitespace removed, with the lines that carry a pragma in each parent's blob at that
path: when no parent has it (a new line, or a pragma new on that line) the change added it. A
parent whose blob cannot be read cannot vouch for the line, so the pragma counts as added.
"""

from __future__ import annotations

from collections.abc import Sequence

from scanner.detect.engine import PRAGMA, PRAGMA_MAX_LINE
from scanner.model import Match, Position

PragmaLines = frozenset[bytes]
"""The whitespace-free lines of a text that carry a pragma (`pragma_lines`)."""


def _bounds(data: bytes, offset: int) -> tuple[int, int]:
    """The line around `offset`, as the engine marks pragmas (`\\n` or `\\r` ends a line)."""
    start = max(data.rfind(b"\n", 0, offset), data.rfind(b"\r", 0, offset)) + 1
    end = len(data)
    for sep in (b"\n", b"\r"):
        j = data.find(sep, offset)
        if j != -1:
            end = min(end, j)
    return start, end


def _norm(line: bytes) -> bytes:
    return b"".join(line.split())


def pragma_lines(data: bytes) -> PragmaLines:
    """Every line of `data` that the engine would read a pragma on, whitespace removed."""
    out: set[bytes] = set()
    i = data.find(PRAGMA)
    while i != -1:
        start, end = _bounds(data, i)
        if end - start <= PRAGMA_MAX_LINE:
            out.add(_norm(data[start:end]))
        i = data.find(PRAGMA, max(end, i + 1))
    return frozenset(out)


def added_pragmas(
    hits: Sequence[tuple[Match, Position]], data: bytes, parents: Sequence[PragmaLines | None]
) -> frozenset[int]:
    """The indexes of `hits` (matches of `data`) whose pragma the change adds; `parents` holds
    each parent's pragma lines at the path (empty: no blob there; None: it could not be read)."""
    out: set[int] = set()
    for k, (m, _) in enumerate(hits):
        if not m.pragma:
            continue
        start, end = _bounds(data, m.start)
        line = _norm(data[start:end])
        if not parents or not any(p is not None and line in p for p in parents):
            out.add(k)
    return frozenset(out)


def all_pragmas(hits: Sequence[tuple[Match, Position]]) -> frozenset[int]:
    """The indexes of the pragma-marked `hits` of a text the change adds whole (a commit message)."""
    return frozenset(k for k, (m, _) in enumerate(hits) if m.pragma)
