"""Provenance of a full sweep (ARCHITECTURE.md §4): reachability, introductions, first and last
seen, presence at HEAD and at refs, and the places (locations) of every matched text.

Computed for matched blobs only, from the commit graph and the few trees that lead to them
(`links.Trees`); every introduction is checked on the parents' own trees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import pygit2

from scanner.git.graph import Ancestry, generations, walk
from scanner.git.index import IndexEntry
from scanner.git.objects import iso
from scanner.git.refs import head_commit, list_refs
from scanner.git.repo import own_odb
from scanner.git.trees import display, lookup, under
from scanner.model import CommitRef, Provenance
from scanner.skips import MISSING, SHALLOW
from scanner.sources.base import Found, Place, SourceResult, commit_ref, secret_id
from scanner.sources.history.links import EMPTY_VIEW, K_BLOB, K_UNREAD, Trees, View
from scanner.sources.history.tables import Tables

OrderKey = tuple[int, int, str]
Reached = tuple[set[bytes], set[bytes], bytes | None, dict[str, bytes], dict[str, bytes], dict[str, bytes]]


def _same_blob(blob: bytes) -> Callable[[bytes], bool]:
    def same(b2: bytes) -> bool:
        return b2 == blob

    return same


def _holds_secret(holds: dict[bytes, frozenset[str]], s: str) -> Callable[[bytes], bool]:
    def same(b2: bytes) -> bool:
        return s in holds.get(b2, ())

    return same


def peel(t: Tables, raw: bytes) -> tuple[bytes, list[bytes], bool]:
    crossed: list[bytes] = []
    seen: set[bytes] = set()
    while raw in t.tags and raw not in seen:
        seen.add(raw)
        crossed.append(raw)
        raw = t.tags[raw].target
    ok = raw in t.commits or raw in t.known_blobs or raw in t.known_trees
    return raw, crossed, ok


def reach(repo: pygit2.Repository, t: Tables, res: SourceResult) -> Reached:
    """Generation numbers, refs and what they reach: commits and refs only, no trees (so it
    runs while the workers read the trees)."""
    t.gen = generations(t.commits)
    for c in sorted(t.shallow):
        if c in t.commits:
            res.skip(SHALLOW, f"commit {c.hex()}")
    refs, broken = list_refs(repo)
    for name in broken:
        res.skip(MISSING, f"ref {name}")
    head = head_commit(repo)
    res.head = head

    # reachability from refs and HEAD
    tips: list[tuple[str | None, bytes]] = [(r.name, r.target) for r in refs]
    if head is not None:
        tips.append((None, head))
    reach_tags: set[bytes] = set()
    ref_commit: dict[str, bytes] = {}
    ref_tree: dict[str, bytes] = {}
    ref_blob: dict[str, bytes] = {}
    starts: list[bytes] = []
    for tip_name, target in tips:
        obj, crossed, ok = peel(t, target)
        reach_tags.update(crossed)
        if not ok:
            res.skip(MISSING, f"{tip_name or 'HEAD'} → {obj.hex()}")
            continue
        if obj in t.commits:
            starts.append(obj)
            if tip_name is not None:
                ref_commit[tip_name] = obj
        elif tip_name is not None and obj in t.known_trees:
            ref_tree[tip_name] = obj
        elif tip_name is not None and obj in t.known_blobs:
            ref_blob[tip_name] = obj

    def parents(c: bytes) -> list[bytes]:
        if c in t.shallow:
            return []
        out: list[bytes] = []
        for p in t.commits[c].parents:
            if p in t.commits:
                out.append(p)
            else:
                res.skip(MISSING, f"commit {p.hex()}")
        return out

    reachable = set(walk(starts, parents))
    return reachable, reach_tags, head, ref_commit, ref_tree, ref_blob


class Attribution:
    """Provenance and places of one sweep's matched texts, from its tables and trees."""

    def __init__(
        self,
        repo: pygit2.Repository,
        t: Tables,
        trees: Trees,
        prefix: bytes,
        res: SourceResult,
        index: Sequence[IndexEntry],
    ) -> None:
        self.repo = repo
        self.t = t
        self.trees = trees
        self.prefix = prefix
        self.res = res
        self.index = index
        self.origins: list[tuple[str, bytes]] = []  # what each Found was read from (for the cache)
        self._views: dict[bytes, View] = {}
        self._absent: dict[tuple[bytes, bytes], bool] = {}
        self.loc_best: dict[tuple[bytes, bytes], tuple[int, OrderKey, bytes]] = {}
        self.ancestry = Ancestry(self._read_parents, lambda c: self._gen(c))

    def _read_parents(self, c: bytes) -> tuple[bytes, ...]:
        """The parents of `c` that were read (a tag message's: the commit it tags)."""
        meta = self.t.commits.get(c)
        if meta is None:
            tag = self.t.tags.get(c)
            return (peel(self.t, c)[0],) if tag is not None else ()
        if c in self.t.shallow:
            return ()
        return tuple(p for p in meta.parents if p in self.t.commits)

    def _gen(self, c: bytes) -> int:
        return self._tag_key(c)[1] if c in self.t.tags else self.t.gen.get(c, 1)

    def first_of(self, candidates: Iterable[bytes]) -> bytes:
        """The first introducing commit of `candidates` (ARCHITECTURE.md §4 "Introduces")."""
        return self.ancestry.first(candidates, self.key, self.t.commits)

    def view(self, commit: bytes) -> View:
        """Interesting blobs of `commit`'s tree by path (whole tree; the PATH filter comes later)."""
        v = self._views.get(commit)
        if v is not None:
            return v
        meta = self.t.commits.get(commit)
        if meta is None:
            return EMPTY_VIEW
        entries = self.trees.of(meta.tree)
        if not entries:
            v = EMPTY_VIEW
        else:
            v = View(
                {p: o for p, o, k in entries if k == K_BLOB},
                tuple(p for p, _, k in entries if k == K_UNREAD),
            )
        self._views[commit] = v
        return v

    def scoped(self, commit: bytes) -> View:
        v = self.view(commit)
        if not self.prefix or v is EMPTY_VIEW:
            return v
        pre = self.prefix
        return View(
            {p: o for p, o in v.blobs.items() if under(p, pre)},
            tuple(d for d in v.unread if under(d, pre) or under(pre, d)),
        )

    def key(self, c: bytes) -> OrderKey:
        """Committer time, then generation, then id (a tag message: its tagger's time)."""
        if c in self.t.tags and c not in self.t.commits:
            return self._tag_key(c)
        return (self.t.commits[c].committer.time, self.t.gen.get(c, 1), c.hex())

    def last_key(self, c: bytes) -> OrderKey:
        return (self.t.commits[c].committer.time, self.t.gen.get(c, 1), c.hex())

    def parents_unread(self, c: bytes) -> bool:
        return c in self.t.shallow or any(p not in self.t.commits for p in self.t.commits[c].parents)

    def _tag_key(self, t: bytes) -> OrderKey:
        """A tag message is dated by its tagger and comes just after the commit it tags."""
        meta = self.t.tags[t]
        target, _, _ = peel(self.t, t)
        return (meta.tagger.time if meta.tagger else 0, self.t.gen.get(target, 0) + 1, t.hex())

    def _ref(self, oid: bytes) -> CommitRef:
        meta = self.t.commits.get(oid)
        if meta is not None:
            return commit_ref(oid, meta, self.t.gen.get(oid, 1))
        tagger = self.t.tags[oid].tagger
        tm = tagger.time if tagger else 0
        return CommitRef(
            commit=oid.hex(),
            author=tagger.name if tagger else "",
            email=tagger.email if tagger else "",
            author_time=iso(tm),
            commit_time=iso(tm),
            generation=self._tag_key(oid)[1],
        )

    def _intro(self, c: bytes, path: bytes, same: Callable[[bytes], bool]) -> int:
        """0: `c` introduces at `path`; 1: a read parent has it; 2: cannot tell (a parent unread)."""
        unread = self.parents_unread(c)
        for p in self.t.commits[c].parents:
            if p not in self.t.commits:
                continue
            pv = self.scoped(p)
            b2 = pv.blobs.get(path)
            if b2 is not None and same(b2):
                return 1
            if pv.unknown_at(path, self.t.unreadable):
                unread = True
        if not unread and not self.t.exact:
            unread = any(self._absent_at(p, path) for p in self.t.commits[c].parents if p in self.t.commits)
        return 2 if unread else 0

    def _absent_at(self, commit: bytes, path: bytes) -> bool:
        """Whether `commit`'s tree names an object at `path` (or on the way) that is not here.
        Trees were not checked entry by entry (the repository had no sign of missing objects),
        so an introduction is confirmed on the parents' own entries."""
        key = (commit, path)
        got = self._absent.get(key)
        if got is None:
            blob, readable = lookup(self.repo, self.t.commits[commit].tree, path)
            got = not readable or (blob is not None and blob not in self.t.known_blobs)
            if got:
                what = f"blob {blob.hex()}" if blob is not None else f"tree on the way to {display(path)}"
                self.res.skip(MISSING, f"{what} (at {display(path)} in {commit.hex()})")
            self._absent[key] = got
        return got

    def provenance(
        self,
        reachable: set[bytes],
        reach_tags: set[bytes],
        head: bytes | None,
        ref_commit: dict[str, bytes],
        ref_tree: dict[str, bytes],
        ref_blob: dict[str, bytes],
    ) -> dict[str, Provenance]:
        intros: dict[str, set[bytes]] = {}  # secret → its introducing commits (and tag messages)
        last: dict[str, tuple[OrderKey, bytes]] = {}
        truncated: set[str] = set()
        holds = self.t.holds

        def offer_first(s: str, oid: bytes) -> None:
            got = intros.get(s)
            if got is None:
                intros[s] = {oid}
            else:
                got.add(oid)

        def offer_last(s: str, k: OrderKey, oid: bytes) -> None:
            cur = last.get(s)
            if cur is None or k > cur[0]:
                last[s] = (k, oid)

        # blob-level introductions, for locations: (0 introduced, 1 cannot tell) and the commits
        loc_cands: dict[tuple[bytes, bytes], tuple[int, set[bytes]]] = {}
        for c in reachable:
            v = self.scoped(c)
            if not v.blobs:
                continue
            self.t.commits[c]
            here: set[str] = set()
            for path, blob in v.blobs.items():
                ss = holds.get(blob)
                if ss is None:
                    continue
                # the location: the first commit that introduced this blob at this path
                st = self._intro(c, path, _same_blob(blob))
                if st != 1:
                    state = 0 if st == 0 else 1
                    cur = loc_cands.get((path, blob))
                    if cur is None or state < cur[0]:
                        loc_cands[(path, blob)] = (state, {c})
                    elif state == cur[0]:
                        cur[1].add(c)
                for s in ss:
                    here.add(s)
                    st = self._intro(c, path, _holds_secret(holds, s))
                    if st == 0:
                        offer_first(s, c)
                    elif st == 2:
                        truncated.add(s)
            for s in here:
                offer_last(s, self.last_key(c), c)
            # a blob held only outside the introduction test (parent has it) still needs a location
        if not self.prefix:
            for c, hits in self.t.commit_hits.items():
                if c not in reachable:
                    continue
                self.t.commits[c]
                for m, _ in hits:
                    if m.pragma:
                        continue
                    s = secret_id(m)
                    offer_first(s, c)
                    offer_last(s, self.last_key(c), c)
            for t, hits in self.t.tag_hits.items():
                if t not in reach_tags:
                    continue
                k = self._tag_key(t)
                for m, _ in hits:
                    if m.pragma:
                        continue
                    s = secret_id(m)
                    offer_first(s, t)
                    offer_last(s, k, t)
        self.loc_best = {}
        for where, (state, cands) in loc_cands.items():
            c = self.first_of(cands)
            self.loc_best[where] = (state, self.key(c), c)
        first = {s: self.first_of(cands) for s, cands in intros.items() if s not in truncated}

        at_head: set[str] | None = None
        if head is not None and head in self.t.commits:
            at_head = self._secrets_of(self.scoped(head))
        at_ref: dict[str, set[str]] = {}
        for name, c in ref_commit.items():
            at_ref[name] = self._secrets_of(self.scoped(c))
        for name, t in ref_tree.items():
            entries = self.trees.of(t)
            at_ref[name] = self._secrets_of(
                View({p: o for p, o, k in entries if k == K_BLOB and under(p, self.prefix)}, ())
            )
        for name, b in ref_blob.items():
            at_ref[name] = set(holds.get(b, ())) if not self.prefix else set()

        keys: set[str] = set()
        for ss in holds.values():
            keys |= ss
        for hits in (*self.t.commit_hits.values(), *self.t.tag_hits.values()):
            keys.update(secret_id(m) for m, _ in hits)
        out: dict[str, Provenance] = {}
        for s in keys:
            trunc = s in truncated
            f = None if trunc else first.get(s)
            lst = last.get(s)
            out[s] = Provenance(
                first_seen=self._ref(f) if f else None,
                last_seen=self._ref(lst[1]) if lst else None,
                present_at_head=None if at_head is None else s in at_head,
                present_at_refs=tuple(sorted(n for n, ss in at_ref.items() if s in ss)),
                first_seen_truncated=trunc,
            )
        return out

    def _secrets_of(self, v: View) -> set[str]:
        out: set[str] = set()
        for b in v.blobs.values():
            out |= self.t.holds.get(b, frozenset())
        return out

    def places(
        self,
        reachable: set[bytes],
        reach_tags: set[bytes],
        head: bytes | None,
        ref_tree: dict[str, bytes],
        ref_blob: dict[str, bytes],
    ) -> None:
        res = self.res
        places: dict[bytes, list[Place]] = {b: [] for b in self.t.matched}
        for (path, blob), (_, _, c) in sorted(self.loc_best.items()):
            places[blob].append(Place("history", path, blob, c, self.t.commits[c].committer.time))
        located = {blob for (_, blob) in self.loc_best}
        # blobs held by reachable commits but never introduced at a path (a parent always had it)
        # cannot exist: the walk down the ancestry ends at an introducer or an unread parent.
        for _name, t in sorted(ref_tree.items()):
            for p, o, kind in self.trees.of(t):
                if kind == K_BLOB and o in places and under(p, self.prefix):
                    places[o].append(Place("history", p, o))
                    located.add(o)
        for name, b in sorted(ref_blob.items()):
            if b in places and not self.prefix:
                places[b].append(Place("history", name.encode(), b))
                located.add(b)
        # held anywhere reachable (outside PATH included): not unreachable
        held: set[bytes] = set(located)
        for c in reachable:
            held.update(o for o in self.view(c).blobs.values() if o in places)
        for t in ref_tree.values():
            held.update(o for _, o, k in self.trees.of(t) if o in places)
        held.update(b for b in ref_blob.values() if b in places)
        # the index: staged blobs (not those HEAD holds at the same path)
        head_view = self.view(head) if head is not None and head in self.t.commits else EMPTY_VIEW
        for e in self.index:
            if e.blob in places and head_view.blobs.get(e.path) != e.blob:
                if under(e.path, self.prefix):
                    places[e.blob].append(Place("staged", e.path, e.blob))
                held.add(e.blob)
            elif e.blob in places:
                held.add(e.blob)
        # unreachable: this repository's own objects that nothing reaches
        own = own_odb(self.repo)
        unreach_commits = [c for c in self.t.commits if c not in reachable and own.exists(pygit2.Oid(raw=c))]
        for blob in places:
            if blob in held or not own.exists(pygit2.Oid(raw=blob)):
                continue
            best: dict[bytes, tuple[int, str, bytes]] = {}
            k: tuple[int, str, bytes]
            for c in unreach_commits:
                b_at = self.view(c).blobs
                for p, o in b_at.items():
                    if o == blob and under(p, self.prefix):
                        k = (self.t.commits[c].committer.time, c.hex(), c)
                        if p not in best or k < best[p]:
                            best[p] = k
            if best:
                for p, (ct, _, cid) in sorted(best.items()):
                    places[blob].append(Place("unreachable", p, blob, cid, ct))
            elif not self.prefix:
                places[blob].append(Place("unreachable", b"blob:" + blob.hex().encode(), blob))
        for blob, pl in places.items():
            if pl:
                res.founds.append(Found(self.t.matched[blob], pl))
                self.origins.append(("blob", blob))
        if self.prefix:
            return
        for c, hits in sorted(self.t.commit_hits.items()):
            path = b"commit:" + c.hex().encode()
            ctime = self.t.commits[c].committer.time
            if c in reachable:
                res.founds.append(Found(hits, [Place("message", path, None, c, ctime)]))
                self.origins.append(("commit", c))
            elif own.exists(pygit2.Oid(raw=c)):
                res.founds.append(Found(hits, [Place("unreachable", path, None, c, ctime)]))
                self.origins.append(("commit", c))
        for t_id, hits in sorted(self.t.tag_hits.items()):
            meta = self.t.tags[t_id]
            path = b"tag:" + meta.name
            tm = meta.tagger.time if meta.tagger else None
            if t_id in reach_tags:
                res.founds.append(Found(hits, [Place("message", path, None, t_id, tm)]))
                self.origins.append(("tag", t_id))
            elif own.exists(pygit2.Oid(raw=t_id)):
                res.founds.append(Found(hits, [Place("unreachable", path, None, t_id, tm)]))
                self.origins.append(("tag", t_id))
