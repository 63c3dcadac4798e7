"""One full sweep of a repository (ARCHITECTURE.md §4 "Full sweep", §5): reading.

Phase A reads every object once in the order the object database lists it (packs in pack-index
order, then loose objects): blobs are scanned, commits and annotated tags are parsed and their
messages scanned, trees are only listed. Phase B reads every tree once: it records subtree links
(child id → parent tree) compactly, and notes which trees hold an *interesting* id directly — a
blob that matched, or an object that could not be read (missing, corrupt, over the size cap).
Provenance (provenance.py) is then computed for the matched blobs only. With a cache
(resume.py), an unchanged repository is not read again and new objects are read alone.

Nothing here runs `git`, reads a repository's config-named programs, or writes to stdout.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import replace

import pygit2

from scanner.detect.engine import Matcher
from scanner.gcpause import paused_gc
from scanner.git.index import IndexEntry, IndexRead
from scanner.git.objects import MODE_TREE, OBJ_BLOB, CommitMeta, Signature, TagMeta
from scanner.git.packs import Listing, list_objects, loose_ids, split_ids
from scanner.git.repo import bad_objects, objects_dirs, shallow_commits
from scanner.git.trees import read_tree
from scanner.model import Skip
from scanner.skips import CORRUPT, GITLINK, LFS_POINTER, MISSING, TOO_LARGE
from scanner.sources.base import PoolSpec, Progress, SourceResult, secret_id
from scanner.sources.history.cache import CacheDamaged, CacheFile, HistoryCache, SweepTables
from scanner.sources.history.links import Trees
from scanner.sources.history.provenance import Attribution, Reached, reach
from scanner.sources.history.resume import dump, rescan, reuse, state_digest
from scanner.sources.history.tables import Tables
from scanner.sources.history.workers import (
    TREES_COUNTER,
    ObjectsDone,
    SweepSpec,
    SweepWorker,
    TreesDone,
    make_sweep_worker,
    split_chunks,
)
from scanner.sources.pool import Pool, Sent, local_lane

RESUME_MAX_NEW = 50_000  # more new objects than this: a cached sweep starts over
POOL_MIN_OBJECTS = 40_000  # fewer objects than this: no worker processes
CHUNK_OBJECTS = 1000  # objects per chunk; each worker takes the next free chunk


class Sweep:
    """One full sweep of a repository (ARCHITECTURE.md §4 "Full sweep")."""

    def __init__(
        self,
        repo: pygit2.Repository,
        matcher: Matcher,
        spec: PoolSpec,
        progress: Progress,
        prefix: bytes = b"",
        index: Sequence[IndexEntry] | Callable[[], IndexRead] = (),
        cache: HistoryCache | None = None,
    ) -> None:
        self.repo = repo
        self.matcher = matcher
        self.spec = spec
        self.progress = progress
        self.prefix = prefix
        self._index = index  # parsed when first needed: an unchanged cached sweep never does
        self._reached: Reached | None = None
        self.res = SourceResult()
        self.t = Tables(shallow=shallow_commits(repo))
        self.crew: Pool[SweepSpec, SweepWorker] | None = None
        self.local: SweepWorker | None = None
        self.origins: list[tuple[str, bytes]] = []  # what each Found was read from (for the cache)
        self._early: list[bytes] | None = None  # targets of a tree pass started before the merge
        self._tree_chunks: list[tuple[int, bytes, bytes]] | None = None  # every chunk's trees, shared out
        self._trees_sent: Sent[TreesDone] | None = None  # the early tree pass, under way
        self._ab: tuple[tuple[int, int, int], list[tuple[str, str]], dict[str, int]] = ((0, 0, 0), [], {})
        self.cache = cache
        self._resumed = (0, 0)  # (objects the cache knew, objects read anew) of a resumed sweep
        self.trees: Trees | None = None

    def read_objects(self) -> Generator[None, None, None]:
        """Phase A; yields once while the workers read objects and this process is free (the
        pipeline runs its other sources then: `steps`)."""
        res = self.res
        listing = list_objects(objects_dirs(self.repo))
        if listing is None:  # an index this reader does not know: let libgit2 list and type everything
            try:
                ids = list(dict.fromkeys(o.raw for o in self.repo.odb))
            except pygit2.GitError as e:  # a damaged pack index: what it lists is out of reach
                res.skip(CORRUPT, f"the object database cannot be listed ({e}): loose objects only")
                ids = list(dict.fromkeys(o for d in objects_dirs(self.repo) for o in loose_ids(d)))
            listing = Listing(loose=ids)
            listing.total = len(listing.loose)
        self.t.listing = listing
        res.objects = listing.total
        workers = self.spec.workers if listing.total >= POOL_MIN_OBJECTS else 1
        chunks = split_chunks(listing, max(1, workers), CHUNK_OBJECTS)
        done = {"objects": 0, "trees": 0}
        read = {"objects": 0, "trees": 0}  # bytes each phase has read (the workers say how many)

        def tick(phase: str, count: int, nbytes: int) -> None:
            done[phase] += count
            read[phase] += nbytes
            total = listing.total if phase == "objects" else len(self.t.known_trees)
            self.progress.update(phase, min(done[phase], total), total, read[phase])

        if workers > 1 and len(chunks) > 1:
            sweep_spec = SweepSpec(self.spec, listing, tuple(chunks[0]))
            self.crew = Pool(make_sweep_worker, sweep_spec, len(chunks), tick)
            sent = self.crew.send(SweepWorker.objects)
            yield  # this process has nothing else to do until they are done
            batches = sent.collect()
            if not (listing.promisor or self.t.shallow or bad_objects(self.repo)):
                # the workers start on their trees while this process takes in what they found
                targets: set[bytes] = set()
                for b in batches:
                    targets.update(o for o, _ in b.matched)
                    targets.update(o for o, _, _ in b.bad_blobs)
                    targets.update(o for o, t in b.corrupt if t in (0, OBJ_BLOB))
                self._early = sorted(targets)
                self._tree_chunks = sorted(c for b in batches for c in b.tree_chunks)
                self._trees_sent = self._send_trees(self._early, None)
        else:
            self.local = SweepWorker(
                self.repo, self.matcher, self.spec.cap, listing, chunks[0], local_lane(tick)
            )
            batches = [self.local.objects()]
        self._merge_objects(batches)

    def _merge_objects(self, batches: Sequence[ObjectsDone]) -> None:
        res = self.res
        lfs = 0
        for b in batches:
            res.nbytes += b.nbytes
            res.blobs += b.blobs
            self.t.known_blobs.update(split_ids(b.blob_ids))
            for _k, ids, _at in b.tree_chunks:
                self.t.known_trees.update(split_ids(ids))
            for oid, size, status in b.bad_blobs:
                self.t.unreadable.add(oid)
                what = f"blob {oid.hex()}" + (f" ({size} bytes)" if status == TOO_LARGE else "")
                res.skip(status, what)
            for oid in b.lfs:
                lfs += 1
                if lfs <= 5:
                    res.skips.append(Skip(LFS_POINTER, f"blob {oid.hex()}"))
            for oid, hits in b.matched:
                self.t.matched[oid] = hits
                self.t.holds[oid] = frozenset(secret_id(m) for m, _ in hits if not m.pragma)
            for oid, (tree, parents, an, ae, at, cn, ce, ct), hits in b.commits:
                self.t.commits[oid] = CommitMeta(tree, parents, Signature(an, ae, at), Signature(cn, ce, ct))
                if hits:
                    self.t.commit_hits[oid] = hits
            for oid, tmeta, hits in b.tags:
                self.t.tags[oid] = tmeta
                if hits:
                    self.t.tag_hits[oid] = hits
            for oid, otype in b.corrupt:
                res.skip(CORRUPT, f"object {oid.hex()}")
                if otype in (0, OBJ_BLOB):
                    self.t.unreadable.add(oid)
        if lfs:
            res.skip_counts[LFS_POINTER] = res.skip_counts.get(LFS_POINTER, 0) + lfs
        res.commits = len(self.t.commits)

    def _may_lack_objects(self) -> bool:
        """Whether some object may be absent, so that every tree entry must be checked."""
        if self.t.listing.promisor or self.t.shallow or bad_objects(self.repo):
            return True
        known = self.t.known_trees
        for meta in self.t.commits.values():
            if meta.tree not in known or any(p not in self.t.commits for p in meta.parents):
                return True
        for tmeta in self.t.tags.values():
            t = tmeta.target
            if (
                t not in self.t.commits
                and t not in self.t.tags
                and t not in known
                and t not in self.t.known_blobs
            ):
                return True
        return False

    def read_trees(self) -> None:
        res = self.res
        exact = self.t.exact = self._may_lack_objects()
        targets = sorted(set(self.t.matched) | self.t.unreadable)
        early, self._early = self._early, None
        if self.crew is not None and early is not None:
            self._reached = reach(self.repo, self.t, res)  # this process would only wait for the workers
        while True:
            # objects that exist but could not be read are not also "missing"
            known = frozenset(self.t.known_blobs | self.t.known_trees | self.t.unreadable) if exact else None
            if self.crew is not None and early is not None:
                assert self._trees_sent is not None
                batches: list[TreesDone] = self._trees_sent.collect()
                self._trees_sent = None
                if exact or early != targets:  # the early pass does not fit what was merged: again
                    batches = self._call_trees(targets, known)
                early = None
            elif self.crew is not None:
                batches = self._call_trees(targets, known)
            else:
                assert self.local is not None
                batches = [self.local.read_trees(targets, known)]
            if exact or not (self._subtree_missing(batches) or self._blob_missing(batches)):
                break
            exact = self.t.exact = True  # a subtree or blob is absent: check every entry of every tree
        direct, unread_trees = self._merge_trees(batches)
        self._closure(direct, unread_trees, set())
        self._close_workers()
        self._ab = (
            (res.objects, res.blobs, res.nbytes),
            [(s.reason, s.example) for s in res.skips],
            dict(res.skip_counts),
        )

    def _merge_trees(self, batches: Sequence[TreesDone]) -> tuple[set[bytes], set[bytes]]:
        res = self.res
        direct: set[bytes] = set()
        missing_blobs: set[bytes] = set()
        missing_trees: set[bytes] = set()
        gitlinks: set[bytes] = set()
        corrupt: set[bytes] = set()
        for b in batches:
            direct.update(b.direct)
            missing_blobs |= b.missing_blobs
            missing_trees |= b.missing_trees
            gitlinks |= b.gitlinks
            corrupt.update(b.corrupt)
        for meta in self.t.commits.values():
            if meta.tree not in self.t.known_trees and meta.tree not in self.t.unread_trees:
                missing_trees.add(meta.tree)
        for oid in sorted(missing_blobs | missing_trees):
            res.skip(MISSING, f"{'tree' if oid in missing_trees else 'blob'} {oid.hex()}")
        for oid in sorted(corrupt):
            res.skip(CORRUPT, f"tree {oid.hex()}")
        for oid in sorted(gitlinks):
            res.skip(GITLINK, f"commit {oid.hex()}")
        unread_trees = missing_trees | corrupt
        self.t.unreadable |= missing_blobs
        self.t.unread_trees |= unread_trees
        return direct, unread_trees

    def _closure(self, direct: set[bytes], unread: set[bytes], closure: set[bytes]) -> None:
        """Add to `closure` every tree that leads to `direct` or `unread` (asked level by level)."""
        closure |= direct
        frontier = sorted(closure | unread)
        while frontier:
            if self.crew is not None:
                found: set[bytes] = set()
                for got in self.crew.call(SweepWorker.parents, frontier):
                    found.update(got)
            else:
                assert self.local is not None
                found = set(self.local.parents(frontier))
            frontier = sorted(found - closure)
            closure.update(frontier)
        self.t.closure = closure
        interesting = set(self.t.matched) | self.t.unreadable
        self.trees = Trees(self.repo, closure, interesting, self.t.unread_trees)
        if closure:  # the workers read the closure's trees again, in pack order, and sort them
            args = (frozenset(closure), frozenset(interesting), frozenset(self.t.unread_trees))
            if self.crew is not None:
                for part in self.crew.call(SweepWorker.entries, *args):
                    self.trees.sorted.update(part)
            elif self.local is not None:
                self.trees.sorted.update(self.local.entries(*args))

    def _subtree_missing(self, batches: Sequence[TreesDone]) -> bool:
        """Whether a subtree link names an absent tree (checked on the naming tree's entries)."""
        for b in batches:
            for child, parent in b.foreign.items():
                if child in self.t.known_trees:
                    continue
                entries = read_tree(self.repo, parent) or []
                if any(m == MODE_TREE and bytes(o) == child for m, _n, o in entries):
                    return True
        return False

    def _blob_missing(self, batches: Sequence[TreesDone]) -> bool:
        """Whether a tree read without per-entry checks names an id that phase A never listed
        (a pack written without some of its blobs and no promisor marker: issue 19)."""
        t = self.t
        named: set[bytes] = set()
        for b in batches:
            named.update(split_ids(b.named))
        named.difference_update(t.known_blobs, t.known_trees, t.unreadable)
        for b in batches:
            named -= b.gitlinks  # a submodule's commit, counted as such
        return bool(named)

    def _close_workers(self) -> None:
        if self.crew is not None:
            self.crew.close()
            self.crew = None
        if self.local is not None:
            self.local.close()

    def run(self) -> SourceResult:
        """The sweep, from start to end."""
        return Started(self.steps()).result()

    def steps(self) -> Generator[None, None, SourceResult]:
        """The sweep as steps: it yields (at most once) while its workers read objects and this
        process is free, and returns the result (scanner/gcpause.py: its tables are millions of
        acyclic objects)."""
        with paused_gc():
            return (yield from self._run())

    def _run(self) -> Generator[None, None, SourceResult]:
        res = self.res
        saved = self.cache.load() if self.cache is not None else None
        state = state_digest(self.repo, self.t.shallow) if self.cache is not None else ""
        if saved is not None and saved.state == state:
            done = reuse(self.repo, self.matcher, saved.result)
            if done is not None:
                if self.cache is not None:
                    self.cache.record(f"all of it ({done.objects} objects): the repository is unchanged")
                return done
            self.res = res = SourceResult()
        try:
            if saved is None or not self._resume_safely(saved):
                if self.cache is not None:
                    why = (
                        self.cache.found
                        if saved is None or self.cache.found != "found"
                        else "the cache is of no use here"
                    )
                    self.cache.record(f"none ({why}): every object was read")
                self.res = res = SourceResult()
                yield from self.read_objects()
                self.read_trees()
            elif self.cache is not None:
                known, new = self._resumed
                self.cache.record(f"{known} of {known + new} objects; the {new} new ones were read")
        finally:
            self._close_workers()
        self._finish()
        if self.cache is not None:
            self.cache.save(dump(state, res, self.origins, self.t, self._ab))
        return res

    def _finish(self) -> None:
        res = self.res
        reached = self._reached if self._reached is not None else reach(self.repo, self.t, res)
        reachable, reach_tags, head, ref_commit, ref_tree, ref_blob = reached
        assert self.trees is not None
        att = Attribution(self.repo, self.t, self.trees, self.prefix, res, self.index)
        res.provenance = att.provenance(reachable, reach_tags, head, ref_commit, ref_tree, ref_blob)
        att.places(reachable, reach_tags, head, ref_tree, ref_blob)
        self.origins = att.origins
        if head is not None:  # which places HEAD holds, from the trees read: the suppress stage reads no git
            at_head = att.view(head).blobs
            for found in res.founds:
                found.places = [
                    replace(p, at_head=True) if p.source == "history" and at_head.get(p.path) == p.blob else p
                    for p in found.places
                ]
        res.sources = {"history": res.blobs, "message": len(self.t.commits) + len(self.t.tags)}

    def _send_trees(self, targets: list[bytes], known: frozenset[bytes] | None) -> Sent[TreesDone]:
        assert self.crew is not None
        self.crew.reset(TREES_COUNTER)
        return self.crew.send(SweepWorker.read_trees, targets, known, self._tree_chunks)

    def _call_trees(self, targets: list[bytes], known: frozenset[bytes] | None) -> list[TreesDone]:
        return self._send_trees(targets, known).collect()

    @property
    def index(self) -> Sequence[IndexEntry]:
        if callable(self._index):
            got = self._index()
            if got.damage is not None:  # its staged entries are read as far as they go
                self.res.skip(CORRUPT, got.damage)
            self._index = got.entries
        return self._index

    def _resume_safely(self, saved: CacheFile) -> bool:
        try:
            return self._resume(saved.tables())
        except CacheDamaged as e:
            if self.cache is not None:
                self.cache.found = f"the cache file is damaged: {e}"
            return False  # sweep it all

    def _resume(self, inter: SweepTables) -> bool:
        """Phases A and B from the cache plus the objects added since; False: sweep it all."""
        n_before, skips_before, counts_before = inter.counts, inter.skips, inter.skip_counts
        if any(r in counts_before for r in (MISSING, CORRUPT)) or self.t.listing.promisor or self.t.shallow:
            return False
        known: set[bytes] = set(inter.blobs)
        known.update(inter.trees)
        commits = {
            c: CommitMeta(tree, parents, Signature(an, ae, at), Signature(cn, ce, ct))
            for c, (tree, parents, an, ae, at, cn, ce, ct) in inter.commits.items()
        }
        tags = {
            t: TagMeta(target, ttype, name, Signature(*tagger) if tagger else None)
            for t, (target, ttype, name, tagger) in inter.tags.items()
        }
        known.update(commits)
        known.update(tags)
        known.update(inter.unreadable)
        listing = list_objects(objects_dirs(self.repo), order=False)
        if listing is None or listing.promisor:
            return False
        new: list[bytes] = []
        seen_packs = set(inter.packs)
        for p in listing.packs:
            if p.name in seen_packs:
                continue  # a pack is named by its content: every object in it was swept
            new.extend(o for o in split_ids(p.ids) if o not in known)
        new.extend(o for o in listing.loose if o not in known)
        new = list(dict.fromkeys(new))
        if len(new) > RESUME_MAX_NEW:
            return False
        # what the cache says
        res = self.res
        res.objects, res.blobs, res.nbytes = n_before
        res.skips = [Skip(r, e) for r, e in skips_before]
        res.skip_counts = dict(counts_before)
        self.t.listing = listing
        self.t.commits = commits
        self.t.tags = tags
        self.t.known_blobs = set(inter.blobs)
        self.t.known_trees = set(inter.trees)
        self.t.unreadable = set(inter.unreadable)
        self.t.unread_trees = set(inter.unread_trees)
        for blob in inter.matched:
            hits = rescan(self.repo, self.matcher, "blob", blob)
            if hits is None:
                return False
            self.t.matched[blob] = hits
            self.t.holds[blob] = frozenset(secret_id(m) for m, _ in hits if not m.pragma)
        for kind, ids_, into in (
            ("commit", inter.commit_hits, self.t.commit_hits),
            ("tag", inter.tag_hits, self.t.tag_hits),
        ):
            for oid in ids_:
                hits = rescan(self.repo, self.matcher, kind, oid)
                if hits is None:
                    return False
                into[oid] = hits
        self.t.exact = False  # the cached trees were not all checked entry by entry
        # the new objects, read in this process (they are few)
        sub = Listing(loose=new, total=len(new))
        self._resumed = (res.objects, len(new))
        res.objects += len(new)
        self.local = SweepWorker(
            self.repo, self.matcher, self.spec.cap, sub, sub.chunks(CHUNK_OBJECTS), local_lane()
        )
        self._merge_objects([self.local.objects()])
        res.commits = len(self.t.commits)
        targets = sorted(set(self.t.matched) | self.t.unreadable)
        batches = [self.local.read_trees(targets, None)]
        if self._blob_missing(batches):
            return False  # a new tree names a blob that is not here: every entry must be checked
        direct, unread = self._merge_trees(batches)
        closure = set(inter.closure)
        self._closure(direct, unread, closure)
        self._ab = (
            (res.objects, res.blobs, res.nbytes),
            [(s.reason, s.example) for s in res.skips],
            dict(res.skip_counts),
        )
        return True


class Started:
    """A sweep under way: started up to the point where its workers read objects (the pipeline
    runs its other sources meanwhile), finished by `result`."""

    def __init__(self, steps: Generator[None, None, SourceResult]) -> None:
        self._steps = steps
        self._result: SourceResult | None = None
        self._advance()

    def _advance(self) -> None:
        try:
            next(self._steps)
        except StopIteration as done:
            self._result = done.value

    def result(self) -> SourceResult:
        while self._result is None:
            self._advance()
        return self._result

    def close(self) -> None:
        """Stop a sweep whose result will not be asked for (its workers are closed)."""
        self._steps.close()
