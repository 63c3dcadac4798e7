"""sources → detect → findings → suppress: one scan, from a config to a finished Report."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from scanner.config import ScanConfig
from scanner.detect.engine import Matcher
from scanner.detect.positions import LineIndex, utf16_units
from scanner.errors import ScanError
from scanner.findings import Hit, build_findings
from scanner.model import Exposure, Location, Match, Position, Report, Rule, ScanInfo, Skip, SourceKind, Stats
from scanner.rules import ruleset_hash
from scanner.sources.directory import FileEntry, display_path, read_chunks, walk
from scanner.sources.repository import Progress
from scanner.sources.skips import examples_by_reason, is_incomplete

PARALLEL_MIN_BYTES = 8 * 1024 * 1024
BATCH_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileResult:
    rel: bytes
    size: int
    hits: tuple[tuple[Match, Position], ...]
    skip: Skip | None = None


_WORKER: tuple[Matcher, int] | None = None


def _init_worker(rules: Sequence[Rule], engine: str, serialized: bytes | None, cap: int) -> None:
    global _WORKER
    _WORKER = (Matcher(rules, engine, serialized), cap)


def _scan_batch(batch: Sequence[FileEntry]) -> list[FileResult]:
    assert _WORKER is not None
    matcher, cap = _WORKER
    return [scan_file(matcher, f, cap) for f in batch]


def _breaks(b: bytes) -> int:
    n = b.count(b"\n")
    if b"\r" in b:
        n += b.count(b"\r") - b.count(b"\r\n")
    return n


def scan_file(matcher: Matcher, f: FileEntry, cap: int) -> FileResult:
    """Scan one file, in overlapping chunks above `cap`; positions are file-absolute."""
    hits: list[tuple[Match, Position]] = []
    seen: set[tuple[int, int, str]] = set()
    lines_before = 0  # line breaks in the file before the current chunk's start
    line_start = 0  # absolute offset of the line the current chunk starts in
    prev: tuple[int, bytes] | None = None
    try:
        for start, data in read_chunks(f.abspath, cap):
            if prev is not None:
                pstart, pdata = prev
                region = pdata[: start - pstart]
                lines_before += _breaks(region)
                last = max(region.rfind(b"\n"), region.rfind(b"\r"))
                if last >= 0:
                    line_start = pstart + last + 1
            index = LineIndex(data)
            for m in matcher.scan(data):
                key = (start + m.start, start + m.end, m.rule_id)
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


def _batches(files: Sequence[FileEntry]) -> list[list[FileEntry]]:
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


def find_repository(path: Path) -> Path | None:
    """The working tree root above `path`, if `path` is inside a git repository."""
    p = path.resolve()
    for d in (p, *p.parents):
        try:
            if (d / ".git").exists():
                return d
        except OSError:  # an unreadable parent: no repository we could open anyway
            return None
    return None


def scan_directory(config: ScanConfig, rules: Sequence[Rule], matcher: Matcher) -> Report:
    """Scan every file under the target (a repository as a directory of its files, `.git/` excluded)."""
    t0 = time.monotonic()
    root = config.target
    if not root.exists():
        raise ScanError(f"target does not exist: {root}")
    if not os.access(root, os.R_OK | os.X_OK) and root.is_dir():
        raise ScanError(f"target is not readable: {root}")
    repo = find_repository(root) if root.is_dir() else None
    source = SourceKind.WORKTREE if repo is not None else SourceKind.DIRECTORY
    if root.is_file():
        st = root.stat()
        w_files = [FileEntry(os.fsencode(root.name), os.fsencode(root), st.st_size)]
        w_skips: list[Skip] = []
    else:
        w = walk(os.fsencode(root))
        w_files, w_skips = w.files, w.skips
    total = sum(f.size for f in w_files)
    results: list[FileResult] = []
    serialized = matcher.prefilter.serialize() if hasattr(matcher.prefilter, "serialize") else None
    workers = config.workers
    if workers > 1 and total >= PARALLEL_MIN_BYTES and len(w_files) > 1:
        from concurrent.futures import ProcessPoolExecutor  # imported when a pool is used (start-up)
        from multiprocessing import get_context

        ctx = get_context("fork")
        with ProcessPoolExecutor(
            workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(tuple(rules), matcher.engine, serialized, config.size_cap),
        ) as pool:
            for batch_result in pool.map(_scan_batch, _batches(w_files)):
                results.extend(batch_result)
    else:
        results = [scan_file(matcher, f, config.size_cap) for f in w_files]

    skips = list(w_skips)
    rule_map = {r.id: r for r in rules}
    hits: list[Hit] = []
    suppressed: Counter[str] = Counter()
    scanned_bytes = 0
    scanned_files = 0
    for res in results:
        if res.skip is not None:
            skips.append(res.skip)
            continue
        scanned_files += 1
        scanned_bytes += res.size
        path, path_bytes = display_path(res.rel)
        for m, pos in res.hits:
            if m.pragma:
                suppressed["pragma"] += 1
                continue
            loc = Location(source=source, path=path, position=pos, path_bytes=path_bytes, encoding=m.encoding)
            hits.append(Hit(match=m, location=loc, exposure=Exposure.REPOSITORY))
    findings = build_findings(hits, rule_map, config.fingerprint_key)
    skipped = Counter(s.reason for s in skips)
    examples = examples_by_reason(skips)
    incomplete = is_incomplete(skipped)
    stats = Stats(
        seconds=round(time.monotonic() - t0, 3),
        files=scanned_files,
        blobs=0,
        bytes_scanned=scanned_bytes,
        sources={source.value: scanned_files},
        suppressed=dict(suppressed),
        skipped=dict(skipped),
        skipped_examples=examples,
        complete=not incomplete,
    )
    return Report(
        status="incomplete" if incomplete else "ok",
        scan=ScanInfo(mode="directory" if repo is None else "tree", target=str(root)),
        stats=stats,
        findings=tuple(findings),
        ruleset=ruleset_hash(rules),
        rules=tuple(rules),
    )


def scan_target(
    config: ScanConfig,
    rules: Sequence[Rule],
    matcher: Matcher,
    mode: str | None = None,
    range_expr: str | None = None,
    progress: Progress | None = None,
) -> Report:
    """A repository (found upward from the target) in `mode` — default the full sweep — else a directory."""
    from scanner.errors import UsageError
    from scanner.repo_pipeline import RepoMode, scan_repository
    from scanner.sources.repository import discover

    if not config.target.exists():
        raise ScanError(f"target does not exist: {config.target}")
    site = discover(config.target)
    if site is None:
        if mode is not None and mode != "tree":
            raise UsageError(f"--{mode} needs a git repository; {config.target} is not in one")
        return scan_directory(config, rules, matcher)
    return scan_repository(config, rules, matcher, site, RepoMode(mode or "history"), range_expr, progress)
