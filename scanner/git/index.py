"""The index file: every entry with its stage (versions 2-4).

Parsed here because libgit2's iterator hides each entry's stage and decodes paths (a conflicted
path has stages 1-3 instead of 0); dulwich's reader builds an object per entry and per extension,
which the sweep does not need. libgit2's reading is the fallback for a file this parser refuses.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import pygit2

from scanner.git.repo import index_bytes


@dataclass(frozen=True, slots=True)
class IndexEntry:
    path: bytes
    blob: bytes
    stage: int


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
