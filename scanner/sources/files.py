"""Files on disk: one file scanned in overlapping chunks (positions file-absolute), and batches of
files scanned in a pool's workers (the directory scan and the working tree).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from scanner import watchdog
from scanner.detect.engine import Matcher
from scanner.detect.positions import LineIndex, utf16_units
from scanner.model import Match, Position, Rule, Skip
from scanner.sources.pool import Lane
from scanner.sources.walk import FileEntry, display_path, read_chunks

BATCH_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileResult:
    rel: bytes
    size: int
    hits: tuple[tuple[Match, Position], ...]
    skip: Skip | None = None


@dataclass(frozen=True, slots=True)
class FileScanSpec:
    rules: tuple[Rule, ...]
    engine: str
    serialized: bytes | None
    cap: int


@dataclass(slots=True)
class FileScanner:
    """Scans batches of files (in this process or in a pool's worker)."""

    matcher: Matcher
    cap: int

    def scan_batch(self, batch: Sequence[FileEntry]) -> list[FileResult]:
        return [scan_file(self.matcher, f, self.cap) for f in batch]


def make_file_scanner(spec: FileScanSpec, lane: Lane) -> FileScanner:
    """A worker process's FileScanner (a pool's factory)."""
    return FileScanner(Matcher(spec.rules, spec.engine, spec.serialized), spec.cap)


def _breaks(b: bytes) -> int:
    n = b.count(b"\n")
    if b"\r" in b:
        n += b.count(b"\r") - b.count(b"\r\n")
    return n


def scan_file(matcher: Matcher, f: FileEntry, cap: int) -> FileResult:
    """Scan one file, in overlapping chunks above `cap`; positions are file-absolute."""
    hits: list[tuple[Match, Position]] = []
    seen: set[tuple[int, int, str, str | None]] = set()
    lines_before = 0  # line breaks in the file before the current chunk's start
    line_start = 0  # absolute offset of the line the current chunk starts in
    prev: tuple[int, bytes] | None = None
    label = f"file {f.rel.decode('utf-8', 'replace')}"
    watchdog.scanning(label)  # named before the first read: a process killed while reading says which file
    try:
        for start, data in read_chunks(f.abspath, cap):
            if prev is not None:
                pstart, pdata = prev
                region = pdata[: start - pstart]
                lines_before += _breaks(region)
                last = max(region.rfind(b"\n"), region.rfind(b"\r"))
                if last >= 0:
                    line_start = pstart + last + 1
            watchdog.scanning(label)
            index = LineIndex(data)
            for m in matcher.scan(data):
                key = (
                    start + m.start,
                    start + m.end,
                    m.rule_id,
                    m.secret,
                )  # an inline map: keys share its span
                if key in seen:
                    continue
                seen.add(key)
                pos = index.position(m.start, m.end)
                if start:
                    pos = _shift(f.abspath, start, pos, lines_before, line_start)
                hits.append((replace(m, start=start + m.start, end=start + m.end), pos))
            prev = (start, data)
    except OSError as e:
        return FileResult(
            f.rel, f.size, (), Skip("unreadable", f"{display_path(f.rel)[0]}: {e.strerror or e}")
        )
    return FileResult(f.rel, f.size, tuple(hits))


def _shift(path: bytes, start: int, pos: Position, lines_before: int, line_start: int) -> Position:
    """Make a chunk-relative position file-absolute."""
    column, end_column = pos.column, pos.end_column
    if pos.line == 1 and line_start < start:
        with open(path, "rb") as fh:
            fh.seek(line_start)
            carry = utf16_units(fh.read(start - line_start))
        column += carry
        if pos.end_line == 1:
            end_column += carry
    line = lines_before + pos.line
    return Position(line, column, line + pos.end_line - pos.line, end_column, start + pos.byte_offset)


def batches(files: Sequence[FileEntry]) -> list[list[FileEntry]]:
    out: list[list[FileEntry]] = []
    cur: list[FileEntry] = []
    size = 0
    for f in files:
        cur.append(f)
        size += f.size
        if size >= BATCH_BYTES or len(cur) >= 256:
            out.append(cur)
            cur, size = [], 0
    if cur:
        out.append(cur)
    return out
