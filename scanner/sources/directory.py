"""The directory scan: every file under a target that is not a repository (or a repository read
as a directory of its files, `.git/` excluded), large sets of files spread over a pool."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from scanner.errors import ScanError
from scanner.sources.base import Found, Place, ScanContext, SourceResult
from scanner.sources.files import FileResult, FileScanner, FileScanSpec, batches, make_file_scanner
from scanner.sources.pool import Pool
from scanner.sources.walk import FileEntry, walk

PARALLEL_MIN_BYTES = 8 * 1024 * 1024


class DirectorySource:
    """Every regular file under `root` (or `root` itself when it is a file)."""

    def __init__(self, root: Path, source: str = "directory") -> None:
        self.root = root
        self.source = source  # "directory", or "worktree" for a repository read as files

    def scan(self, ctx: ScanContext) -> SourceResult:
        root = self.root
        if not root.exists():
            raise ScanError(f"target does not exist: {root}")
        if not os.access(root, os.R_OK | os.X_OK) and root.is_dir():
            raise ScanError(f"target is not readable: {root}")
        res = SourceResult()
        if root.is_file():
            files = [FileEntry(os.fsencode(root.name), os.fsencode(root), root.stat().st_size)]
        else:
            w = walk(os.fsencode(root))
            files = w.files
            for s in w.skips:
                res.skip(s.reason, s.example)
        for fr in scan_entries(ctx, files):
            if res.counted(fr.skip, fr.size) and fr.hits:
                res.founds.append(Found(fr.hits, [Place(self.source, fr.rel)]))
        res.sources = {self.source: res.files}
        return res


def scan_entries(ctx: ScanContext, files: Sequence[FileEntry]) -> list[FileResult]:
    """Scan files in this process, or spread over a pool when there are many bytes."""
    total = sum(f.size for f in files)
    if ctx.workers > 1 and total >= PARALLEL_MIN_BYTES and len(files) > 1:
        m = ctx.matcher
        serialized = m.prefilter.serialize() if hasattr(m.prefilter, "serialize") else None
        spec = FileScanSpec(ctx.rules, m.engine, serialized, ctx.size_cap)
        results: list[FileResult] = []
        with Pool(make_file_scanner, spec, ctx.workers) as pool:
            for got in pool.map(FileScanner.scan_batch, batches(files)):
                results.extend(got)
        return results
    return FileScanner(ctx.matcher, ctx.size_cap).scan_batch(files)
