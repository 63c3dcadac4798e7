"""Byte offsets to 1-based lines and UTF-16 columns (ARCHITECTURE.md §4 Positions).

Lines split on LF, CRLF and CR; columns count UTF-16 code units, an undecodable byte as one.
"""

from __future__ import annotations

from scanner.detect.decoders import utf16_codec
from scanner.model import Position


def utf16_units(b: bytes) -> int:
    return len(b.decode("utf-8", "surrogateescape").encode("utf-16-le", "surrogatepass")) // 2


class LineIndex:
    """Line numbers of one text's offsets, counted once and shared by all its matches.

    Lines are counted with `bytes.count` from the last offset asked (matches come in order), not
    from a list of every line start: most files hold no match or one, and a big file would pay a
    Python object per line for it."""

    def __init__(self, data: bytes, base_line: int = 1) -> None:
        self.data = data
        self.base_line = base_line
        self._u16 = utf16_codec(data) if data[:1] in (b"\xff", b"\xfe") or b"\x00" in data[:512] else None
        self._at = 0  # line breaks ending at or before _at: _breaks; the last of them ends at _ls
        self._breaks = 0
        self._ls = 0

    def _count(self, lo: int, hi: int) -> int:
        """Line breaks (LF, CRLF, CR) wholly inside [lo, hi), where no CRLF straddles lo or hi."""
        d = self.data
        return d.count(b"\n", lo, hi) + d.count(b"\r", lo, hi) - d.count(b"\r\n", lo, hi)

    def _line_of(self, off: int) -> tuple[int, int]:
        """(line breaks that end at or before `off`, the start of the line `off` is on)."""
        d = self.data
        # an offset between CR and LF belongs to the line the CR ends
        at = off - 1 if off > 0 and d[off - 1 : off + 1] == b"\r\n" else off
        if at >= self._at:
            breaks = self._breaks + self._count(self._at, at)
            ls = max(d.rfind(b"\n", self._at, at), d.rfind(b"\r", self._at, at)) + 1 or self._ls
        else:
            breaks = self._count(0, at)
            ls = max(d.rfind(b"\n", 0, at), d.rfind(b"\r", 0, at)) + 1
        self._at, self._breaks, self._ls = at, breaks, ls
        return breaks, ls

    def _point(self, off: int) -> tuple[int, int]:
        if self._u16 is not None:
            codec, bom = self._u16
            prefix = self.data[bom : bom + max(0, off - bom) // 2 * 2].decode(codec, "surrogatepass")
            nl = max(prefix.rfind("\n"), prefix.rfind("\r"))
            count = prefix.count("\n") + prefix.count("\r") - prefix.count("\r\n")
            col = len(prefix[nl + 1 :].encode("utf-16-le", "surrogatepass")) // 2
            return self.base_line + count, col + 1
        breaks, ls = self._line_of(off)
        return self.base_line + breaks, utf16_units(self.data[ls:off]) + 1

    def position(self, start: int, end: int) -> Position:
        line, col = self._point(start)
        end_line, end_col = self._point(end)
        return Position(line=line, column=col, end_line=end_line, end_column=end_col, byte_offset=start)


def locate(data: bytes, start: int, end: int) -> Position:
    """One-off position of a span (for many spans, build a LineIndex once)."""
    return LineIndex(data).position(start, end)
