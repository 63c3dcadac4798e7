"""Every object of a repository in pack order, with its type, read from the pack files themselves.

Iterating libgit2's object database lists packed objects in id order, which scatters reads over
the pack and defeats the delta-base cache, and `read_header` walks each delta chain to learn a
type (seconds on a long history). A pack index (`.idx`, version 2) gives every object's offset; the
few header bytes at that offset give its type and size, and a delta's type is its base's, found
earlier in the same pack (OFS_DELTA). Objects read in offset order find their delta bases in
libgit2's cache. Loose objects follow the packs. What this reader cannot type (REF_DELTA, loose
objects, an index of another version) is left to libgit2 (`read_header`).

The listing is cheap (index files only); typing happens in the workers, each over its own chunks.
Nothing here runs `git`; pack files are only read.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import struct
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.git.objects import OBJ_BLOB, OBJ_COMMIT, OBJ_TAG, OBJ_TREE

# Delta application is the hottest loop of a tree-heavy sweep (one delta per tree version);
# dulwich's compiled apply_delta does it ~8x faster than the Python loop kept below as fallback.
_c_apply: Any = None
with contextlib.suppress(ImportError):  # dulwich is a dependency; the fallback keeps it optional
    _c_apply = importlib.import_module("dulwich._pack").apply_delta  # a compiled module, no stubs

_OFS_DELTA, _REF_DELTA = 6, 7
_BLOCK = 4 << 20
_MASK = (1 << 32) - 1
LOOSE = -1


@dataclass(slots=True)
class PackSource:
    path: Path  # the .pack file
    name: str
    size: int
    ids: bytes  # concatenated 20-byte ids, index order
    keys: array[int]  # offset << 32 | index position, sorted by offset (an array: workers inherit it)


@dataclass(slots=True)
class Listing:
    """Every object id (packs in offset order, then loose), duplicates marked."""

    packs: list[PackSource] = field(default_factory=list)
    loose: list[bytes] = field(default_factory=list)
    dup: set[tuple[int, int]] = field(default_factory=set)  # (source, position) listed earlier already
    promisor: bool = False  # a partial clone: objects may be missing by design
    total: int = 0

    def chunks(self, per: int) -> list[tuple[int, int, int]]:
        """(source, start, stop) slices of at most `per` objects, in read order."""
        out: list[tuple[int, int, int]] = []
        for s, p in enumerate(self.packs):
            n = len(p.keys)
            out.extend((s, i, min(n, i + per)) for i in range(0, n, per))
        n = len(self.loose)
        out.extend((LOOSE, i, min(n, i + per)) for i in range(0, n, per))
        return out

    def ids_of(self, src: int, start: int, stop: int) -> Iterator[tuple[int, bytes]]:
        if src == LOOSE:
            for j in range(start, stop):
                yield j, self.loose[j]
            return
        p = self.packs[src]
        ids, keys = p.ids, p.keys
        for j in range(start, stop):
            i = keys[j] & _MASK
            yield j, ids[20 * i : 20 * i + 20]


_ID20 = re.compile(rb".{20}", re.S)


def split_ids(ids: bytes) -> list[bytes]:
    """20-byte ids from their concatenation (the slicing loop in C)."""
    return _ID20.findall(ids)


def _read_idx(path: Path) -> tuple[bytes, list[int]] | None:
    """(concatenated ids, offsets) of a version-2 pack index, or None."""
    try:
        b = path.read_bytes()
    except OSError:
        return None
    if len(b) < 8 + 1024 or b[:4] != b"\xfftOc" or struct.unpack(">I", b[4:8])[0] != 2:
        return None
    n = struct.unpack(">I", b[8 + 255 * 4 : 8 + 256 * 4])[0]
    sh = 8 + 1024
    off0 = sh + 24 * n
    if len(b) < off0 + 4 * n + 40:
        return None
    offs = array("I")
    offs.frombytes(b[off0 : off0 + 4 * n])
    if struct.pack("=I", 1) != struct.pack(">I", 1):
        offs.byteswap()
    out = offs.tolist()
    big = off0 + 4 * n
    for i, o in enumerate(out):
        if o & 0x80000000:
            j = o & 0x7FFFFFFF
            if len(b) < big + 8 * j + 8:
                return None
            out[i] = struct.unpack(">Q", b[big + 8 * j : big + 8 * j + 8])[0]
    return b[sh : sh + 20 * n], out


def loose_ids(objects: Path) -> list[bytes]:
    out: list[bytes] = []
    try:
        fans = [d for d in os.scandir(objects) if len(d.name) == 2 and d.is_dir()]
    except OSError:
        return out
    for fan in sorted(fans, key=lambda d: d.name):
        try:
            names = sorted(e.name for e in os.scandir(fan.path) if len(e.name) == 38)
        except OSError:
            continue
        for name in names:
            try:
                out.append(bytes.fromhex(fan.name + name))
            except ValueError:
                continue
    return out


def list_objects(objects_dirs: list[Path], order: bool = True) -> Listing | None:
    """Every object under these object directories (a repository's own, then its alternates);
    None when an index cannot be read this way (the caller then asks libgit2 for the list)."""
    out = Listing()
    for objects in objects_dirs:
        pack_dir = objects / "pack"
        try:
            names = sorted(e.name for e in os.scandir(pack_dir) if e.name.endswith(".idx"))
        except OSError:
            names = []
        for name in names:
            stem = name[: -len(".idx")]
            pack = pack_dir / (stem + ".pack")
            try:
                size = pack.stat().st_size
            except OSError:
                continue  # an index without its pack: libgit2 ignores it too
            if (pack_dir / (stem + ".promisor")).exists():
                out.promisor = True
            got = _read_idx(pack_dir / name)
            if got is None:
                return None
            ids, offs = got
            if len(offs) >= 1 << 32:
                return None
            keys = [o << 32 | i for i, o in enumerate(offs)] if order else []
            keys.sort()
            out.packs.append(PackSource(pack, stem, size, ids, array("Q", keys)))
            del keys, offs
        out.loose.extend(loose_ids(objects))
    out.total = sum(len(p.ids) // 20 for p in out.packs) + len(out.loose)
    if order and len(out.packs) + (1 if out.loose else 0) > 1:
        _mark_duplicates(out)
    return out


class _SortedIds:
    """A pack index's sorted ids as a sequence, for bisect (no copy)."""

    def __init__(self, ids: bytes) -> None:
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids) // 20

    def __getitem__(self, i: int) -> bytes:
        return self.ids[20 * i : 20 * i + 20]


def _mark_duplicates(out: Listing) -> None:
    """Objects listed twice (in two packs, or packed and loose): one copy is kept, the largest
    pack's when it has one. The largest pack is searched by bisection in its sorted index, the
    other sources through a set of their own ids, so the work follows the small sources."""
    from bisect import bisect_left

    big = max(range(len(out.packs)), key=lambda k: len(out.packs[k].ids)) if out.packs else -1
    sorted_big = _SortedIds(out.packs[big].ids) if big >= 0 else _SortedIds(b"")

    def in_big(oid: bytes) -> bool:
        k = bisect_left(sorted_big, oid)
        return k < len(sorted_big) and sorted_big[k] == oid

    seen: set[bytes] = set()
    for s_, p in enumerate(out.packs):
        if s_ == big:
            continue
        for j, k in enumerate(p.keys):
            i = k & _MASK
            oid = p.ids[20 * i : 20 * i + 20]
            if oid in seen or in_big(oid):
                out.dup.add((s_, j))
            seen.add(oid)
    for j, oid in enumerate(out.loose):
        if oid in seen or in_big(oid):
            out.dup.add((LOOSE, j))
        seen.add(oid)
    out.total -= len(out.dup)


def _varint(data: bytes, i: int) -> tuple[int, int]:
    """A delta header's size field (base-128, least significant group first) at `i`, and the
    index after it."""
    value = shift = 0
    while True:
        c = data[i]
        i += 1
        value |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return value, i


def _delta_result_size(data: bytes) -> int:
    """The result size in a delta's header (after the base size)."""
    return _varint(data, _varint(data, 0)[1])[0]


def _entry_header(buf: bytes, p: int) -> tuple[int, int, int, int]:
    """(raw type, size field, index of the entry's data, distance back to an OFS_DELTA's base
    or 0) of the pack entry whose header starts at `buf[p]`."""
    c = buf[p]
    t = (c >> 4) & 7
    size = c & 15
    shift = 4
    while c & 0x80:
        p += 1
        c = buf[p]
        size |= (c & 0x7F) << shift
        shift += 7
    p += 1
    rel = 0
    if t == _OFS_DELTA:
        c = buf[p]
        rel = c & 0x7F
        while c & 0x80:
            p += 1
            c = buf[p]
            rel = ((rel + 1) << 7) | (c & 0x7F)
        p += 1
    return t, size, p, rel


def _decompress(view: memoryview, size: int, where: int) -> bytes:
    """One entry's zlib stream: a truncated stream or a bad checksum raises; what follows the
    stream is the next entry and is ignored."""
    try:
        out = zlib.decompress(view, 15, max(size, 1))
    except zlib.error as e:
        raise PackError(f"bad entry data at {where}: {e}") from None
    if len(out) != size:
        raise PackError(f"bad entry data at {where}")
    return out


class PackError(Exception):
    """A pack entry this reader cannot decode (the caller asks libgit2, which reports it)."""


class PackReader:
    """Types, sizes and contents of one pack's objects, read at their offsets.

    A delta is rebuilt from its base, and every rebuilt object is kept in a bounded cache, so a
    delta chain read in pack order costs one delta per object (libgit2 keeps only the chain's full
    base and re-applies the whole chain for each object, several times slower on long histories).
    Entries named by id (REF_DELTA) are left to libgit2."""

    def __init__(self, path: Path, cache_bytes: int = 64 << 20, cap: int = 64 << 20) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.base = 0
        self.buf = b""
        self.types: dict[int, int] = {}
        self.cache: dict[int, bytes] = {}
        self.cache_bytes = cache_bytes
        self.cached = 0
        self.cap = cap

    def close(self) -> None:
        os.close(self.fd)

    def clear(self, types: bool = False) -> None:
        self.cache.clear()
        self.cached = 0
        if types:
            self.types.clear()

    def _at(self, off: int, need: int = 320, stream: bool = True) -> tuple[bytes, int]:
        """Bytes at `off`: from the block (refilled there for the object being read), or, for a
        delta base outside the block, read alone."""
        p = off - self.base
        if p >= 0 and p + need <= len(self.buf):
            return self.buf, p
        if not stream:
            return os.pread(self.fd, max(need, 4096), off), 0
        self.buf = os.pread(self.fd, max(_BLOCK, need), off)
        self.base = off
        return self.buf, 0

    def _header(self, off: int, stream: bool = True) -> tuple[int, int, int, int]:
        """(raw type, size, data offset, base offset or -1) of the entry at `off`."""
        buf, p = self._at(off, 320, stream)
        t, size, q, rel = _entry_header(buf, p)
        return t, size, off + q - p, off - rel if rel else -1

    def type_size(self, off: int) -> tuple[int, int]:
        """(type or 0 when libgit2 must tell, size or -1 when unknown); sizes only for blobs.
        A damaged header (a truncated or corrupted pack) is left to libgit2 too, which reports it."""
        try:
            t, size, data_off, base = self._header(off)
            delta = t == _OFS_DELTA
            if delta:
                t = self._base_type(base)
        except (PackError, IndexError, ValueError, struct.error, OSError):
            self.types[off] = 0
            return 0, -1
        if delta:
            size = -1
            if t == OBJ_BLOB:
                try:
                    buf, p = self._at(data_off, 300)
                    size = _delta_result_size(zlib.decompressobj().decompress(buf[p : p + 256], 24))
                except (zlib.error, IndexError):
                    size = -1
        elif not OBJ_COMMIT <= t <= OBJ_TAG:
            t = 0  # REF_DELTA (base named by id) or unknown
        if t != OBJ_BLOB:
            size = size if t else -1
        self.types[off] = t
        return t, size

    def _base_type(self, off: int) -> int:
        chain: list[int] = []
        t = 0
        for _ in range(100000):
            got = self.types.get(off)
            if got is not None:
                t = got
                break
            rt, _size, _d, base = self._header(off, False)
            chain.append(off)
            if rt != _OFS_DELTA:
                t = rt if OBJ_COMMIT <= rt <= OBJ_TAG else 0
                break
            off = base
        for o in chain:
            self.types[o] = t
        return t

    def _inflate(self, data_off: int, size: int, stream: bool = True) -> bytes:
        need = size + (size >> 10) + 64
        if need > _BLOCK:
            view = memoryview(os.pread(self.fd, need, data_off))
        else:
            buf, p = self._at(data_off, need, stream)
            view = memoryview(buf)[p : p + need]
        return _decompress(view, size, data_off)

    def read(self, off: int, hint: int = 0) -> tuple[int, bytes]:
        """(type, data) of the object at `off`; raises PackError when libgit2 must read it."""
        got = self.cache.get(off)
        if got is not None:
            return hint or self.types[off], got
        chain: list[tuple[int, int, int]] = []  # (offset, data offset, delta size) from the object down
        cur = off
        data = None
        for _ in range(100000):
            cached = self.cache.get(cur)
            if cached is not None:
                data = cached
                break
            t, size, data_off, base = self._header(cur, cur == off)
            if t == _OFS_DELTA:
                chain.append((cur, data_off, size))
                cur = base
                continue
            if not OBJ_COMMIT <= t <= OBJ_TAG:
                raise PackError(f"entry type {t} at {cur}")
            if size > self.cap:
                raise PackError(f"base over the size cap at {cur}")
            data = self._inflate(data_off, size, cur == off)
            if not hint:
                self.types[cur] = t
            self._keep(cur, data)
            break
        if data is None:
            raise PackError(f"delta chain too long at {off}")
        otype = hint or self.types.get(cur) or self._base_type(cur)
        for o, data_off, dsize in reversed(chain):
            data = apply_delta(data, self._inflate(data_off, dsize, o == off))
            if not hint:
                self.types[o] = otype
            self._keep(o, data)
        return otype, data

    def read_tree(self, off: int) -> bytes:
        """`read(off, OBJ_TREE)` by a short path for the tree pass's common case: the entry is in
        the current block, whole or a delta on a base still in the cache (reads ~20 % faster
        than the general path's chain walk); anything else takes the general path."""
        cache = self.cache
        got = cache.get(off)
        if got is not None:
            return got
        buf = self.buf
        p = off - self.base
        if p < 0 or p + 320 > len(buf):
            return self.read(off, OBJ_TREE)[1]
        t, size, q, rel = _entry_header(buf, p)
        base = None
        if t == _OFS_DELTA:
            base = cache.get(off - rel)
            if base is None:
                return self.read(off, OBJ_TREE)[1]
        elif t != OBJ_TREE:
            return self.read(off, OBJ_TREE)[1]
        need = size + (size >> 10) + 64
        if q + need > len(buf):
            return self.read(off, OBJ_TREE)[1]
        out = _decompress(memoryview(buf)[q : q + need], size, off + q - p)
        data = out if base is None else apply_delta(base, out)
        self._keep(off, data)
        return data

    def _evict(self) -> None:
        """Drop the older half of the cache (dicts keep insertion order)."""
        drop = len(self.cache) // 2
        for o in list(self.cache)[:drop]:
            self.cached -= len(self.cache.pop(o))

    def _keep(self, off: int, data: bytes) -> None:
        n = len(data)
        if n > self.cache_bytes >> 4:
            return
        self.cache[off] = data
        self.cached += n
        if self.cached > self.cache_bytes:
            self._evict()


def apply_delta(base: bytes, delta: bytes) -> bytes:
    """A git delta applied to its base (compiled when dulwich is there); PackError when malformed."""
    if _c_apply is None:
        return py_apply_delta(base, delta)
    try:
        out = _c_apply(base, delta)
    except Exception as e:  # noqa: BLE001 - dulwich raises ApplyDeltaError, or AssertionError/ValueError on junk
        raise PackError(f"bad delta: {e}") from None
    return out[0] if len(out) == 1 else b"".join(out)


def py_apply_delta(base: bytes, delta: bytes) -> bytes:
    """A git delta applied to its base (pure Python)."""
    try:
        return _py_apply(base, delta)
    except IndexError:
        raise PackError("delta truncated") from None


def _py_apply(base: bytes, delta: bytes) -> bytes:
    src, i = _varint(delta, 0)
    if src != len(base):
        raise PackError("delta base has the wrong size")
    expect, i = _varint(delta, i)
    out: list[bytes] = []
    n = len(delta)
    while i < n:
        c = delta[i]
        i += 1
        if c & 0x80:
            off = size = 0
            if c & 1:
                off = delta[i]
                i += 1
            if c & 2:
                off |= delta[i] << 8
                i += 1
            if c & 4:
                off |= delta[i] << 16
                i += 1
            if c & 8:
                off |= delta[i] << 24
                i += 1
            if c & 16:
                size = delta[i]
                i += 1
            if c & 32:
                size |= delta[i] << 8
                i += 1
            if c & 64:
                size |= delta[i] << 16
                i += 1
            if size == 0:
                size = 0x10000
            if off + size > len(base):
                raise PackError("delta copies past its base")
            out.append(base[off : off + size])
        elif c:
            if i + c > n:
                raise PackError("delta truncated")
            out.append(delta[i : i + c])
            i += c
        else:
            raise PackError("reserved delta opcode")
    data = b"".join(out)
    if len(data) != expect:
        raise PackError("delta result has the wrong size")
    return data
