"""The full sweep's workers (run in a scanner/sources/pool.py pool, or in-process): each reads its own chunks of the object list, in pack order.

Phase A reads commits, tags and blobs (blobs are scanned; only what matched goes back to the
parent) and only notes where its trees are. Phase B reads those trees once: it looks for the
interesting ids (blobs that matched or could not be read) with one byte search over the raw tree
data, and keeps the subtree links (`40000 <name>\\0<id>`) in its own memory. The parent then asks
every worker, level by level, which trees hold the trees found so far (the upward closure); only
ids cross the process boundary, never tree data or link tables.

Per-entry parsing of every tree (to find entries whose object is absent) runs only when the
repository can lack objects: a partial clone (promisor pack), a shallow clone, damaged loose
objects, or a quick check that found a commit's tree, a parent, a tag's target, a subtree or a
blob missing. Loose trees are always parsed entry by entry. Otherwise packs are not trusted to be
complete either: every id the trees name is collected in C (one regex over each batch of trees,
subtrees left out, deduplicated per worker) and the parent compares that set with the objects
phase A listed; one absent blob sends the sweep through the per-entry pass, which counts each
entry whose blob was never read. Provenance at matched paths is still checked exactly (the trees
leading to a matched blob are parsed entry by entry).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import filterfalse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pygit2

if TYPE_CHECKING:
    pass

from scanner import watchdog
from scanner.detect.engine import Matcher
from scanner.git.objects import (
    ENTRY_FULL,
    ENTRY_ID,
    MODE_GITLINK,
    MODE_TREE,
    OBJ_BLOB,
    OBJ_COMMIT,
    OBJ_TAG,
    OBJ_TREE,
    SUBTREE,
    is_lfs_pointer,
    parse_commit,
    parse_tag,
)
from scanner.git.packs import LOOSE, Listing, PackError, PackReader, split_ids
from scanner.git.repo import open_repository, read_header, read_raw
from scanner.skips import CORRUPT, TOO_LARGE
from scanner.sources.base import PoolSpec, scan_text
from scanner.sources.history.links import Sorted, mode_entries, sort_entries, wanted_entries
from scanner.sources.pool import Lane

hyperscan: Any
try:
    import hyperscan
except ImportError:  # pragma: no cover - hyperscan is a dependency; the fallback keeps tests honest
    hyperscan = None

SEARCH_BATCH = 4 << 20
READER_CACHE = 48 << 20  # rebuilt objects kept as delta bases, per worker
OFFSET_MASK = (1 << 48) - 1
PROGRESS_EVERY = 2000
WANTED_MAX = 64  # a closure tree with more ids to look for than this is parsed entry by entry


class IdSearch:
    """Which of many byte strings hold any of a set of 20-byte ids (hyperscan literals in C)."""

    def __init__(self, ids: Sequence[bytes]) -> None:
        self.ids = list(ids)
        self.db: Any = None
        if self.ids and hyperscan is not None and len(self.ids) > 2:
            exprs = [b"".join(b"\\x%02x" % c for c in i) for i in self.ids]
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            n = len(exprs)
            db.compile(expressions=exprs, ids=list(range(n)), elements=n, flags=[0] * n)
            self.db = db

    def holders(self, datas: Sequence[bytes], joined: bytes | None = None) -> set[int]:
        """Indexes of `datas` that contain some id (a few false hits across boundaries are fine:
        callers parse the trees they keep)."""
        if not self.ids or not datas:
            return set()
        if self.db is None:
            return {k for k, d in enumerate(datas) if any(i in d for i in self.ids)}
        ends: list[int] = []
        pos = 0
        for d in datas:
            pos += len(d)
            ends.append(pos)
        hits: list[int] = []

        def on_match(_id: int, _f: int, to: int, _fl: int, _ctx: object) -> None:
            hits.append(to - 1)

        self.db.scan(b"".join(datas) if joined is None else joined, match_event_handler=on_match)
        return {bisect_right(ends, h) for h in hits} - {len(datas)}


@dataclass(slots=True)
class ObjectsDone:
    """What phase A learnt from one worker's chunks."""

    commits: list[tuple[bytes, Any, Any]] = field(
        default_factory=list
    )  # id, flat CommitMeta (pickles fast), hits
    tags: list[tuple[bytes, Any, Any]] = field(default_factory=list)
    matched: list[tuple[bytes, Any]] = field(default_factory=list)  # blob id, hits
    bad_blobs: list[tuple[bytes, int, str]] = field(default_factory=list)  # id, size, reason
    corrupt: list[tuple[bytes, int]] = field(default_factory=list)  # id, type or 0
    lfs: list[bytes] = field(default_factory=list)
    blobs: int = 0  # blobs read and scanned
    nbytes: int = 0
    count: int = 0
    tree_chunks: list[tuple[int, bytes, bytes]] = field(
        default_factory=list
    )  # chunk, tree ids, where (array q)
    blob_ids: bytes = b""  # concatenated ids of every blob (read or not)


@dataclass(slots=True)
class TreesDone:
    direct: list[bytes] = field(
        default_factory=list
    )  # trees holding an interesting id (may over-approximate)
    missing_blobs: set[bytes] = field(default_factory=set)
    missing_trees: set[bytes] = field(default_factory=set)
    gitlinks: set[bytes] = field(default_factory=set)
    corrupt: list[bytes] = field(default_factory=list)
    foreign: dict[bytes, bytes] = field(default_factory=dict)  # subtree id not read here → a tree naming it
    named: bytes = b""  # every blob id the trees read without per-entry checks name (concatenated)
    nbytes: int = 0
    count: int = 0


OBJECTS_COUNTER, TREES_COUNTER = 0, 1  # the pool's shared counters for the two passes


class SweepWorker:
    """One worker's share of a full sweep (also used in-process for small repositories)."""

    def __init__(
        self,
        repo: pygit2.Repository,
        matcher: Matcher,
        cap: int,
        listing: Listing,
        chunks: Sequence[tuple[int, int, int]],
        lane: Lane,
    ) -> None:
        self.repo = repo
        self.matcher = matcher
        self.cap = cap
        self.listing = listing
        self.chunks = chunks
        self.tick = lane.tick
        self.trees: list[bytes] = []
        self.tree_at = array("q")  # source << 48 | offset of each tree (source -1: loose)
        self.loose_trees: set[int] = set()
        self.links: dict[bytes, list[int]] = {}
        self.direct: set[int] = set()  # trees (indexes) that may hold an interesting id
        self.readers: dict[int, PackReader] = {}
        self.lane = lane  # with a pool: workers take the next free chunk from shared counters

    def _my_chunks(self) -> Iterator[tuple[int, tuple[int, int, int]]]:
        claim = self.lane.claim
        if claim is None:
            yield from enumerate(self.chunks)
            return
        while True:
            k = claim(OBJECTS_COUNTER)
            if k >= len(self.chunks):
                return
            yield k, self.chunks[k]

    def _reader(self, src: int) -> PackReader:
        r = self.readers.get(src)
        if r is None:
            r = self.readers[src] = PackReader(self.listing.packs[src].path, READER_CACHE, self.cap)
        return r

    def _read(self, src: int, off: int, raw: bytes, otype: int = 0) -> tuple[int, bytes]:
        """Read from the pack directly; libgit2 reads what this reader cannot (and reports damage)."""
        if src != LOOSE:
            try:
                return self._reader(src).read(off, otype)
            except (PackError, OSError, IndexError, KeyError):
                pass
        return read_raw(self.repo, raw)

    def _read_tree(self, src: int, off: int, raw: bytes) -> bytes:
        if src != LOOSE:
            try:
                return self._reader(src).read_tree(off)
            except (PackError, OSError, IndexError, KeyError):
                pass
        return read_raw(self.repo, raw)[1]

    # -- phase A -------------------------------------------------------------------------------

    def objects(self, skip: frozenset[bytes] = frozenset()) -> ObjectsDone:
        """Read every commit, tag and blob of this worker's chunks; note its trees.
        Blobs in `skip` (known from a cache) are only counted as present."""
        out = ObjectsDone()
        trees: list[bytes] = []
        tree_at = self.tree_at
        blob_ids: list[bytes] = []
        listing = self.listing
        dup = listing.dup
        told = 0  # bytes already reported to the progress
        for k, (src, start, stop) in self._my_chunks():
            first = len(trees)
            typer = None
            keys: Sequence[int] = ()
            if src != LOOSE:
                typer = self._reader(src)
                keys = listing.packs[src].keys
            for j, raw in listing.ids_of(src, start, stop):
                if dup and (src, j) in dup:
                    continue
                out.count += 1
                off = keys[j] >> 32 if typer is not None else 0
                otype, size = typer.type_size(off) if typer is not None else (0, -1)
                if otype == 0 or (otype == OBJ_BLOB and size < 0):
                    try:
                        otype, size = read_header(self.repo, raw)
                    except (pygit2.GitError, KeyError, ValueError, OSError):
                        out.corrupt.append((raw, 0))
                        continue
                if otype == OBJ_TREE:
                    if src == LOOSE:
                        self.loose_trees.add(len(trees))
                    trees.append(raw)
                    tree_at.append(src << 48 | off)
                    continue
                if otype == OBJ_BLOB:
                    blob_ids.append(raw)
                    if raw in skip:
                        continue
                    if size > self.cap:
                        out.bad_blobs.append((raw, size, TOO_LARGE))
                        continue
                try:
                    _, data = self._read(src, off, raw)
                except (pygit2.GitError, KeyError, ValueError, OSError):
                    if otype == OBJ_BLOB:
                        out.bad_blobs.append((raw, size, CORRUPT))
                    else:
                        out.corrupt.append((raw, otype))
                    continue
                out.nbytes += len(data)
                if otype == OBJ_BLOB:
                    hits = scan_text(self.matcher, data)
                    out.blobs += 1
                    if is_lfs_pointer(data):
                        out.lfs.append(raw)
                    if hits:
                        out.matched.append((raw, hits))
                elif otype == OBJ_COMMIT:
                    try:
                        meta, message = parse_commit(data)
                    except (KeyError, ValueError, IndexError):
                        out.corrupt.append((raw, otype))
                        continue
                    a, c = meta.author, meta.committer
                    flat = (meta.tree, meta.parents, a.name, a.email, a.time, c.name, c.email, c.time)
                    out.commits.append((raw, flat, scan_text(self.matcher, message)))
                elif otype == OBJ_TAG:
                    try:
                        tmeta, message = parse_tag(data)
                    except (KeyError, ValueError, IndexError):
                        out.corrupt.append((raw, otype))
                        continue
                    out.tags.append((raw, tmeta, scan_text(self.matcher, message)))
            self.tick("objects", stop - start, out.nbytes - told)
            told = out.nbytes
            watchdog.beat()
            if len(trees) > first:
                out.tree_chunks.append((k, b"".join(trees[first:]), tree_at[first:].tobytes()))
        self.trees = trees
        out.blob_ids = b"".join(blob_ids)
        return out

    # -- phase B -------------------------------------------------------------------------------

    def read_trees(
        self,
        targets: Sequence[bytes],
        known: frozenset[bytes] | None,
        chunks: Sequence[tuple[int, bytes, bytes]] | None = None,
    ) -> TreesDone:
        """Read trees once: this worker's own, or, given every chunk's trees, the chunks it takes in
        turn with the others. `known` (every object id) switches on per-entry checks."""
        out = TreesDone()
        if chunks is not None:
            self.trees, self.tree_at = [], array("q")
        search = IdSearch(targets)
        target_set = frozenset(targets)
        links: dict[bytes, list[int]] = {}
        self.links = links
        self.direct = set()
        get = links.get
        findall = SUBTREE.findall
        entry_ids = ENTRY_ID.findall
        named: set[bytes] = set()
        trees = self.trees
        batch: list[bytes] = []
        batch_idx: list[int] = []
        state = [0, 0]  # bytes and subtree links in the batch

        def flush() -> None:
            joined = b"".join(batch)
            if joined.count(b"40000 ") != state[1]:
                # some name or id holds "40000 ": take those trees' subtree links entry by entry
                for data, idx in zip(batch, batch_idx, strict=True):
                    if data.count(b"40000 ") != len(findall(data)):
                        for m, _n, child in ENTRY_FULL.findall(data):
                            if m == MODE_TREE:
                                links.setdefault(child, []).append(idx)
            if MODE_GITLINK + b" " in joined:
                # a submodule's commit is another repository's: counted, and taken out of `named`
                # by the parent. Only the gitlinks are collected here: the per-entry existence check
                # (`_exact`) on every tree holding one cost git/git's sweep a third of its CPU
                # (odb.exists for every entry of every version of its root tree)
                for data in batch:
                    if MODE_GITLINK + b" " in data:
                        out.gitlinks.update(c for _m, _n, c in mode_entries(data, MODE_GITLINK))
            for k in search.holders(batch, joined):
                out.direct.append(trees[batch_idx[k]])
                self.direct.add(batch_idx[k])
            # every id named, less the subtrees (kept in `links`): checked against what phase A read
            named.update(filterfalse(links.__contains__, entry_ids(joined)))
            batch.clear()
            batch_idx.clear()
            state[0] = state[1] = 0

        for r in self.readers.values():
            r.clear(types=True)  # blobs are no delta bases for trees, and every object read now is one
        tree_at = self.tree_at
        n_done = told = 0
        for idx, raw in self._tree_stream(chunks):
            n_done += 1
            if n_done >= PROGRESS_EVERY:
                self.tick("trees", n_done, out.nbytes - told)
                told = out.nbytes
                watchdog.beat()
                out.count += n_done
                n_done = 0
            at = tree_at[idx]
            try:
                data = self._read_tree(at >> 48, at & OFFSET_MASK, raw)
            except (pygit2.GitError, KeyError, ValueError, OSError):
                out.corrupt.append(raw)
                continue
            out.nbytes += len(data)
            if known is not None or at >> 48 == LOOSE:
                self._exact(idx, data, known, target_set, out)
                continue
            subs = findall(data)
            for child in subs:
                got = get(child)
                if got is None:
                    links[child] = [idx]
                else:
                    got.append(idx)
            batch.append(data)
            batch_idx.append(idx)
            state[0] += len(data)
            state[1] += len(subs)
            if state[0] >= SEARCH_BATCH:
                flush()
        if batch:
            flush()
        out.count += n_done
        if n_done:
            self.tick("trees", n_done, out.nbytes - told)
        out.named = b"".join(named)
        mine = set(trees)
        out.foreign = {c: trees[ps[0]] for c, ps in links.items() if c not in mine}
        return out

    def _tree_stream(self, chunks: Sequence[tuple[int, bytes, bytes]] | None) -> Iterator[tuple[int, bytes]]:
        """(index, id) of the trees to read: this worker's own, or chunks taken one at a time."""
        if chunks is None:
            yield from enumerate(self.trees)
            return
        while True:
            k = self.lane.claim(TREES_COUNTER) if self.lane.claim is not None else -1
            if not 0 <= k < len(chunks):
                return
            _, ids, where = chunks[k]
            start = len(self.trees)
            self.trees.extend(split_ids(ids))
            self.tree_at.frombytes(where)
            for idx in range(start, len(self.trees)):
                yield idx, self.trees[idx]

    def _exact(
        self, idx: int, data: bytes, known: frozenset[bytes] | None, targets: frozenset[bytes], out: TreesDone
    ) -> None:
        raw = self.trees[idx]
        direct = False
        for mode, _name, child in ENTRY_FULL.findall(data):
            if mode == MODE_TREE:
                self.links.setdefault(child, []).append(idx)
            if child in targets:
                direct = True
            if mode == MODE_GITLINK:
                out.gitlinks.add(child)  # a submodule commit: another repository's history
                continue
            present = child in known if known is not None else self._exists(child)
            if present:
                continue
            if mode == MODE_TREE:
                out.missing_trees.add(child)
                direct = True
            else:
                out.missing_blobs.add(child)
                direct = True
        if direct:
            out.direct.append(raw)
            self.direct.add(idx)

    def _exists(self, oid: bytes) -> bool:
        try:
            return bool(self.repo.odb.exists(pygit2.Oid(raw=oid)))
        except (pygit2.GitError, ValueError):
            return False

    # -- closure --------------------------------------------------------------------------------

    def parents(self, frontier: Sequence[bytes]) -> list[bytes]:
        """Trees read here that name any of `frontier` as a subtree."""
        out: set[int] = set()
        links = self.links
        for t in frontier:
            got = links.get(t)
            if got:
                out.update(got)
        return [self.trees[i] for i in out]

    def entries(
        self, closure: frozenset[bytes], interesting: frozenset[bytes], unread: frozenset[bytes]
    ) -> dict[bytes, Sorted]:
        """The closure's trees read here, sorted for `links.Trees` (read again in pack order, where
        each is one delta on the last; libgit2 re-applies a whole delta chain for every tree).
        Only the entries naming a subtree of the closure (known from the links) or, in a tree
        that holds one, an interesting blob are looked up; a tree that cannot be read here is left
        to the parent, which reads it and reports it as before."""
        kids: dict[int, list[bytes]] = {}
        for oid in (*closure, *unread):
            for idx in self.links.get(oid, ()):
                got = kids.get(idx)
                if got is None:
                    kids[idx] = [oid]
                else:
                    got.append(oid)
        mine = sorted(set(kids) | self.direct)  # a tree of the closure names one or holds one
        out: dict[bytes, Sorted] = {}
        tree_at = self.tree_at
        for n, idx in enumerate(mine, 1):
            raw = self.trees[idx]
            if raw not in closure:
                continue
            at = tree_at[idx]
            try:
                data = self._read_tree(at >> 48, at & OFFSET_MASK, raw)
            except (pygit2.GitError, KeyError, ValueError, OSError):
                continue
            wanted = kids.get(idx, [])
            if idx in self.direct:
                wanted = [*wanted, *interesting]
            found = ENTRY_FULL.findall(data) if len(wanted) > WANTED_MAX else wanted_entries(data, wanted)
            out[raw] = sort_entries(found, closure, unread, interesting)
            if n % PROGRESS_EVERY == 0:
                watchdog.beat()
        return out

    def close(self) -> None:
        self.links = {}
        self.trees = []
        for r in self.readers.values():
            r.close()
        self.readers = {}


def split_chunks(listing: Listing, workers: int, per: int) -> list[list[tuple[int, int, int]]]:
    """Every chunk, for each worker: a worker takes the next chunk no other has taken (in pack
    order, so that each reads every part of the pack and none waits on a slow one)."""
    if workers > 1:
        chunks = listing.chunks(per)
        return [chunks] * workers
    chunks = listing.chunks(per)
    out: list[list[tuple[int, int, int]]] = [[] for _ in range(workers)]
    for k, c in enumerate(chunks):
        out[k % workers].append(c)
    return out


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """What every sweep worker process builds its worker from (inherited by fork, never pickled)."""

    pool: PoolSpec  # the repository, rules and cap, as every pool's workers get them
    listing: Listing
    chunks: tuple[tuple[int, int, int], ...]


def make_sweep_worker(spec: SweepSpec, lane: Lane) -> SweepWorker:
    """A worker process's SweepWorker: its own repository handle and matcher (a pool's factory)."""
    p = spec.pool
    repo = open_repository(Path(p.gitdir), p.bad)
    return SweepWorker(repo, Matcher(p.rules, p.engine, p.serialized), p.cap, spec.listing, spec.chunks, lane)
