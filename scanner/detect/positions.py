"""Byte offsets to 1-based lines and UTF-16 columns (ARCHITECTURE.md §4 Positions).

Lines split on LF, CRLF and CR; columns count UTF-16 code units, an undecodable byte as one.
"""

from __future__ import annotations

import bisect
import re

from scanner.detect.decoders import utf16_codec
from scanner.model import Position

_NL = re.compile(rb"\r\n|\r|\n")


def utf16_units(b: bytes) -> int:
    return len(b.decode("utf-8", "surrogateescape").encode("utf-16-le", "surrogatepass")) // 2


class LineIndex:
    """Line starts of one text, computed once and shared by all its matches."""

    def __init__(self, data: bytes, base_line: int = 1) -> None:
        self.data = data
        self.base_line = base_line
        self._u16 = utf16_codec(data) if data[:1] in (b"\xff", b"\xfe") or b"\x00" in data[:512] else None
        self._starts: list[int] | None = None

    def _line_starts(self) -> list[int]:
        if self._starts is None:
            self._starts = [0, *(m.end() for m in _NL.finditer(self.data))]
        return self._starts

    def _point(self, off: int) -> tuple[int, int]:
        if self._u16 is not None:
            codec, bom = self._u16
            prefix = self.data[bom : bom + max(0, off - bom) // 2 * 2].decode(codec, "surrogatepass")
            nl = max(prefix.rfind("\n"), prefix.rfind("\r"))
            count = prefix.count("\n") + prefix.count("\r") - prefix.count("\r\n")
            col = len(prefix[nl + 1 :].encode("utf-16-le", "surrogatepass")) // 2
            return self.base_line + count, col + 1
        starts = self._line_starts()
        i = bisect.bisect_right(starts, off) - 1
        # an offset between CR and LF belongs to the line the CR ends
        ls = starts[i]
        return self.base_line + i, utf16_units(self.data[ls:off]) + 1

    def position(self, start: int, end: int) -> Position:
        line, col = self._point(start)
        end_line, end_col = self._point(end)
        return Position(line=line, column=col, end_line=end_line, end_column=end_col, byte_offset=start)


def locate(data: bytes, start: int, end: int) -> Position:
    """One-off position of a span (for many spans, build a LineIndex once)."""
    return LineIndex(data).position(start, end)
