"""LineIndex against a plain reference (every line start listed by a regex, then bisected): the
same line and UTF-16 column for every offset, asked in order, out of order, and between a CR
and its LF, on texts mixing LF, CRLF, lone CR and multi-byte characters."""

from __future__ import annotations

import bisect
import random
import re

from scanner.detect.positions import LineIndex, utf16_units

_NL = re.compile(rb"\r\n|\r|\n")
_PIECES = (b"\n", b"\r\n", b"\r", b"\r\r\n", b"\n\r", b"a", b"key", b"\xc3\xa9", b"\xf0\x9f\x94\x91", b"\xff")


def _reference(data: bytes, off: int) -> tuple[int, int]:
    starts = [0, *(m.end() for m in _NL.finditer(data))]
    i = bisect.bisect_right(starts, off) - 1
    return 1 + i, utf16_units(data[starts[i] : off]) + 1


def _texts(rng: random.Random, n: int) -> list[bytes]:
    return [b"".join(rng.choice(_PIECES) for _ in range(rng.randrange(0, 60))) for _ in range(n)]


def test_offsets_in_order_match_the_reference() -> None:
    rng = random.Random(20)
    for data in _texts(rng, 300):
        idx = LineIndex(data)
        for off in range(len(data) + 1):  # every offset, CR|LF included
            assert idx._point(off) == _reference(data, off), (data, off)


def test_offsets_in_any_order_match_the_reference() -> None:
    rng = random.Random(22)
    for data in _texts(rng, 300):
        idx = LineIndex(data)
        offs = [rng.randrange(len(data) + 1) for _ in range(12)]
        for off in offs:
            assert idx._point(off) == _reference(data, off), (data, off, offs)


def test_position_spans_lines() -> None:
    data = b"a\r\nbb\rc\xc3\xa9\n\nkey = x\r\n"
    idx = LineIndex(data)
    s = data.index(b"key")
    p = idx.position(s, s + 3)
    assert (p.line, p.column, p.end_line, p.end_column, p.byte_offset) == (5, 1, 5, 4, s)
    p = idx.position(1, data.index(b"c") + 3)  # back to the start, across CRLF and CR
    assert (p.line, p.column, p.end_line, p.end_column) == (1, 2, 3, 3)
