"""The index: its entries with their stages, and the `--staged` scan (ARCHITECTURE.md §4 "Staged").

The index file is parsed here (versions 2–4) because libgit2's iterator hides each entry's stage
and decodes paths; a conflicted path has stages 1–3 instead of 0. The working tree is never read.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pygit2

from scanner.detect.engine import Matcher
from scanner.model import Provenance
from scanner.sources.repository import (
    MODE_GITLINK,
    MODE_TREE,
    Found,
    Hits,
    IndexEntry,
    Place,
    SourceResult,
    head_commit,
    parse_commit,
    read_header,
    read_raw,
    scan_text,
    secret_key,
    tree_entries,
)
from scanner.sources.skips import CORRUPT, MISSING, TOO_LARGE

_S_IFMT = 0o170000
_S_IFGITLINK = 0o160000
_S_IFDIR = 0o040000


class IndexFormatError(ValueError):
    pass


def parse_index(data: bytes) -> list[IndexEntry]:
    """Every entry of a git index file (v2, v3, v4), with its stage; extensions are ignored."""
    if len(data) < 12 or data[:4] != b"DIRC":
        raise IndexFormatError("not an index file")
    version, count = struct.unpack(">II", data[4:12])
    if version not in (2, 3, 4):
        raise IndexFormatError(f"index version {version}")
    pos = 12
    out: list[IndexEntry] = []
    prev = b""
    for _ in range(count):
        start = pos
        if pos + 62 > len(data):
            raise IndexFormatError("truncated entry")
        mode = struct.unpack(">I", data[pos + 24 : pos + 28])[0]
        oid = data[pos + 40 : pos + 60]
        flags = struct.unpack(">H", data[pos + 60 : pos + 62])[0]
        pos += 62
        if version >= 3 and flags & 0x4000:
            pos += 2
        if version == 4:
            strip, pos = _varint(data, pos)
            end = data.index(b"\x00", pos)
            if strip > len(prev):
                raise IndexFormatError("bad path compression")
            path = prev[: len(prev) - strip] + data[pos:end]
            pos = end + 1
        else:
            end = data.index(b"\x00", pos)
            path = data[pos:end]
            pos = start + ((end - start + 8) // 8) * 8
        prev = path
        kind = mode & _S_IFMT
        if kind in (_S_IFGITLINK, _S_IFDIR):  # submodules; sparse-index directories
            continue
        out.append(IndexEntry(path, oid, (flags >> 12) & 3))
    return out


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    b = data[pos]
    pos += 1
    val = b & 0x7F
    while b & 0x80:
        b = data[pos]
        pos += 1
        val = ((val + 1) << 7) | (b & 0x7F)
    return val, pos


def index_bytes(repo: pygit2.Repository) -> bytes | None:
    """The index file as it is on disk (None for a bare repository or when there is none)."""
    if repo.is_bare:
        return None
    try:
        return (Path(repo.path) / "index").read_bytes()
    except OSError:
        return None


def read_index(repo: pygit2.Repository) -> list[IndexEntry]:
    """The index entries of a non-bare repository (empty for a bare one or when there is no index)."""
    data = index_bytes(repo)
    if data is None:
        return []
    try:
        return parse_index(data)
    except (IndexFormatError, ValueError, IndexError, struct.error):
        return _fallback(repo)


def _fallback(repo: pygit2.Repository) -> list[IndexEntry]:
    import os

    idx = repo.index
    out: list[IndexEntry] = []
    conflicted: set[str] = set()
    if idx.conflicts is not None:
        for anc, ours, theirs in idx.conflicts:
            for stage, e in ((1, anc), (2, ours), (3, theirs)):
                if e is not None:
                    conflicted.add(e.path)
                    out.append(IndexEntry(os.fsencode(e.path), e.id.raw, stage))
    out.extend(IndexEntry(os.fsencode(e.path), e.id.raw, 0) for e in idx if e.path not in conflicted)
    return out


def lookup(repo: pygit2.Repository, tree: bytes | None, path: bytes) -> tuple[bytes | None, bool]:
    """(blob id at `path` in `tree` or None, whether the trees on the way could be read)."""
    parts = path.split(b"/")
    cur = tree
    for i, name in enumerate(parts):
        if cur is None:
            return None, True
        try:
            _, data = read_raw(repo, cur)
        except (pygit2.GitError, KeyError, ValueError, OSError):
            return None, False
        nxt = None
        for mode, ename, oid in tree_entries(data):
            if ename == name:
                last = i == len(parts) - 1
                if last and mode not in (MODE_TREE, MODE_GITLINK):
                    return bytes(oid), True
                if not last and mode == MODE_TREE:
                    nxt = bytes(oid)
                break
        cur = nxt
    return None, True


def blob_at(repo: pygit2.Repository, tree: bytes | None, path: bytes) -> bytes | None:
    """The blob id at `path` in `tree` (None when absent, unreadable or not a blob)."""
    return lookup(repo, tree, path)[0]


def head_tree(repo: pygit2.Repository) -> bytes | None:
    head = head_commit(repo)
    if head is None:
        return None
    try:
        _, data = read_raw(repo, head)
        return parse_commit(data)[0].tree
    except (pygit2.GitError, KeyError, ValueError, IndexError):
        return None


class BlobScanner:
    """Scans blobs on demand, each once, with skips counted on the result."""

    def __init__(self, repo: pygit2.Repository, matcher: Matcher, cap: int, res: SourceResult) -> None:
        self.repo = repo
        self.matcher = matcher
        self.cap = cap
        self.res = res
        self._cache: dict[bytes, Hits | None] = {}

    def hits(self, blob: bytes, where: str = "") -> Hits | None:
        """The blob's matches; None when it could not be read (counted)."""
        if blob in self._cache:
            return self._cache[blob]
        got: Hits | None
        label = f"blob {blob.hex()}" + (f" ({where})" if where else "")
        try:
            _, size = read_header(self.repo, blob)
        except KeyError:
            self.res.skip(MISSING, label)
            got = None
        except (pygit2.GitError, ValueError, OSError):
            self.res.skip(CORRUPT, label)
            got = None
        else:
            if size > self.cap:
                self.res.skip(TOO_LARGE, label)
                got = None
            else:
                try:
                    _, data = read_raw(self.repo, blob)
                except (pygit2.GitError, KeyError, ValueError, OSError):
                    self.res.skip(CORRUPT, label)
                    got = None
                else:
                    self.res.blobs += 1
                    self.res.nbytes += len(data)
                    got = scan_text(self.matcher, data)
        self._cache[blob] = got
        return got

    def keys(self, blob: bytes | None) -> frozenset[str] | None:
        """Secrets the blob holds; None when unreadable; empty for no blob."""
        if blob is None:
            return frozenset()
        h = self.hits(blob)
        if h is None:
            return None
        return frozenset(secret_key(m) for m, _ in h if not m.pragma)


def staged_scan(repo: pygit2.Repository, matcher: Matcher, cap: int, prefix: bytes = b"") -> SourceResult:
    """Stage-0 entries that differ from HEAD and stages 2–3 of conflicts; a secret counts when
    HEAD's blob at that path does not hold it (an unborn HEAD is the empty tree)."""
    res = SourceResult()
    res.head = head_commit(repo)
    tree = head_tree(repo)
    scanner = BlobScanner(repo, matcher, cap, res)
    entries = read_index(repo)
    conflicted = {e.path for e in entries if e.stage}
    seen: set[tuple[bytes, bytes]] = set()
    for e in entries:
        if e.stage == 1 or (e.stage == 0 and e.path in conflicted):
            continue
        if prefix and not (e.path == prefix or e.path.startswith(prefix + b"/")):
            continue
        if (e.path, e.blob) in seen:
            continue
        seen.add((e.path, e.blob))
        at_head, readable = lookup(repo, tree, e.path) if tree is not None else (None, True)
        if not readable:
            res.skip(MISSING, f"HEAD's tree at {e.path.decode('utf-8', 'replace')}")
        if at_head == e.blob:
            continue
        hits = scanner.hits(e.blob, e.path.decode("utf-8", "replace"))
        if not hits:
            continue
        held = scanner.keys(at_head)
        if held is None:
            held = frozenset()  # HEAD's blob unreadable: count what the staged blob holds
        kept = tuple((m, p) for m, p in hits if secret_key(m) not in held)
        if kept:
            res.founds.append(Found(kept, [Place("staged", e.path, e.blob)]))
            for m, _ in kept:
                res.provenance.setdefault(secret_key(m), Provenance())
    res.sources = {"staged": len(seen)}
    return res
