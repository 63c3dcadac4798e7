"""A slow, obvious reference implementation of ARCHITECTURE.md §4, the oracle for the history engine.

Every commit's whole tree is flattened and compared path by path with its parents' trees; every
blob is scanned with the same matcher. Nothing here is shared with scanner/sources (no raw-object
parsing, no byte search over trees): it uses pygit2's object API only.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any

import pygit2

from scanner.detect.engine import Matcher
from scanner.detect.positions import LineIndex
from tests.oracle_report import Expect as Expect
from tests.oracle_report import digest as digest
from tests.oracle_report import normalize as normalize

UNKNOWN = object()  # a blob or tree that could not be read


class Oracle:
    def __init__(self, path: Path, matcher: Matcher, prefix: bytes = b"") -> None:
        pygit2.option(pygit2.GIT_OPT_SET_OWNER_VALIDATION, 0)
        self.repo = pygit2.Repository(str(path))
        self.matcher = matcher
        self.prefix = prefix
        self._scan: dict[str, Any] = {}
        self._flat: dict[str, Any] = {}
        gd = Path(self.repo.path)
        common = gd / "commondir"
        self.common = (gd / common.read_text().strip()).resolve() if common.is_file() else gd
        shallow = self.common / "shallow"
        self.shallow = set(shallow.read_text().split()) if shallow.is_file() else set()
        self.damaged = self._damaged()

    def _damaged(self) -> set[str]:
        """Loose objects that do not inflate to their declared size (never handed to libgit2)."""
        out = set()
        for f in (self.common / "objects").glob("??/*"):
            try:
                data = zlib.decompress(f.read_bytes())
                head, _, body = data.partition(b"\x00")
                ok = int(head.split()[1]) == len(body)
            except (zlib.error, ValueError, IndexError, OSError):
                ok = False
            if not ok:
                out.add(f.parent.name + f.name)
        return out

    def get(self, oid: str) -> Any:
        if oid in self.damaged:
            return None
        try:
            return self.repo[oid]
        except (KeyError, ValueError, pygit2.GitError):
            return None

    # -- primitives ------------------------------------------------------------------------

    def scan(self, blob: str) -> Any:
        """[(secret, line, column)] of a blob, or UNKNOWN."""
        if blob not in self._scan:
            obj = self.get(blob)
            if not isinstance(obj, pygit2.Blob):
                self._scan[blob] = UNKNOWN
                return UNKNOWN
            data = obj.data
            self._scan[blob] = self.scan_bytes(data)
        return self._scan[blob]

    def scan_bytes(self, data: bytes) -> list[tuple[str, int, int]]:
        idx = LineIndex(data)
        out = []
        for m in self.matcher.scan(data):
            if m.pragma or m.secret is None:
                continue
            pos = idx.position(m.start, m.end)
            out.append((m.secret, pos.line, pos.column))
        return out

    def secrets(self, blob: Any) -> Any:
        if blob is None:
            return set()
        if blob is UNKNOWN:
            return UNKNOWN
        s = self.scan(blob)
        return UNKNOWN if s is UNKNOWN else {x[0] for x in s}

    def held(self, blob: Any) -> set[str]:
        got = self.secrets(blob)
        return set() if got is UNKNOWN else got  # type: ignore[no-any-return]

    def flat(self, tree_id: str) -> dict[bytes, Any]:
        """path → blob id (or UNKNOWN for what lies under an unreadable tree, keyed by its dir + b'/')."""
        if tree_id in self._flat:
            return self._flat[tree_id]  # type: ignore[no-any-return]
        out: dict[bytes, Any] = {}

        def rec(tid: str, base: bytes) -> None:
            tree = self.get(tid)
            if not isinstance(tree, pygit2.Tree):
                out[base] = UNKNOWN
                return
            for e in tree:
                name = os.fsencode(e.name)
                if e.filemode == pygit2.GIT_FILEMODE_TREE:
                    rec(str(e.id), base + name + b"/")
                elif e.filemode == pygit2.GIT_FILEMODE_COMMIT:
                    continue
                else:
                    out[base + name] = str(e.id)

        rec(tree_id, b"")
        self._flat[tree_id] = out
        return out

    def at(self, flat: dict[bytes, Any], path: bytes) -> Any:
        """The blob at `path`, None when absent, UNKNOWN when a tree on the way was unreadable."""
        if path in flat:
            v = flat[path]
            return UNKNOWN if v is UNKNOWN or self.scan(v) is UNKNOWN else v
        for k, v in flat.items():
            if (v is UNKNOWN and k.endswith(b"/") and path.startswith(k)) or (v is UNKNOWN and k == b""):
                return UNKNOWN
        return None

    def scoped(self, flat: dict[bytes, Any]) -> dict[bytes, Any]:
        if not self.prefix:
            return flat
        p = self.prefix
        return {
            k: v
            for k, v in flat.items()
            if k == p or k.startswith(p + b"/") or (v is UNKNOWN and (p + b"/").startswith(k))
        }

    def commit(self, cid: str) -> pygit2.Commit | None:
        obj = self.get(cid)
        return obj if isinstance(obj, pygit2.Commit) else None

    def parents(self, cid: str) -> tuple[list[str], bool]:
        """(parent ids that could be read, whether any parent could not be read)."""
        if cid in self.shallow:
            return [], True
        c = self.commit(cid)
        assert c is not None
        ids = [str(p) for p in c.parent_ids]
        read = [p for p in ids if self.commit(p) is not None]
        return read, len(read) != len(ids)

    def tree_of(self, cid: str) -> dict[bytes, Any]:
        c = self.commit(cid)
        assert c is not None
        return self.scoped(self.flat(str(c.tree_id)))

    # -- refs and reachability ---------------------------------------------------------------

    def refs(self) -> dict[str, pygit2.Object]:
        out = {}
        for name in self.repo.listall_references():
            if not name.startswith("refs/"):
                continue
            try:
                out[name] = self.repo.references[name].resolve().peel(None)
            except (KeyError, ValueError, pygit2.GitError):
                continue
        return out

    def head(self) -> str | None:
        """HEAD; in a bare repository whose HEAD names no branch, the default branch (§4)."""
        try:
            if not self.repo.head_is_unborn:
                return str(self.repo.head.resolve().target)
        except (KeyError, pygit2.GitError):
            pass
        if not self.repo.is_bare:
            return None
        branches = [n for n in self.repo.listall_references() if n.startswith("refs/heads/")]
        for name in ("refs/heads/main", "refs/heads/master"):
            if name in branches:
                return str(self.repo.references[name].peel(pygit2.Commit).id)
        return str(self.repo.references[branches[0]].peel(pygit2.Commit).id) if len(branches) == 1 else None

    def reachable(self) -> tuple[set[str], set[str]]:
        """(reachable commits, reachable annotated tags)."""
        starts: list[str] = []
        tags: set[str] = set()
        for name in self.repo.listall_references():
            if not name.startswith("refs/"):
                continue
            try:
                obj = self.repo[self.repo.references[name].resolve().target]
            except (KeyError, ValueError, pygit2.GitError):
                continue
            while isinstance(obj, pygit2.Tag):
                tags.add(str(obj.id))
                try:
                    obj = self.repo[obj.target]
                except (KeyError, ValueError):
                    break
            if isinstance(obj, pygit2.Commit):
                starts.append(str(obj.id))
        h = self.head()
        if h is not None and self.commit(h) is not None:
            starts.append(h)
        seen: set[str] = set()
        while starts:
            c = starts.pop()
            if c in seen:
                continue
            seen.add(c)
            starts.extend(self.parents(c)[0])
        return seen, tags

    def generation(self, commits: set[str]) -> dict[str, int]:
        gen: dict[str, int] = {}

        def g(c: str) -> int:
            if c not in gen:
                ps = self.parents(c)[0]
                gen[c] = 1 + max((g(p) for p in ps), default=0)
            return gen[c]

        for c in sorted(commits):
            g(c)
        return gen

    def ancestors(self, c: str) -> set[str]:
        """Every proper ancestor of commit (or annotated tag) `c` through parents that were read."""
        tag = self.get(c)
        start = [str(tag.target)] if isinstance(tag, pygit2.Tag) else self.parents(c)[0]
        seen: set[str] = set()
        stack = [p for p in start if self.commit(p) is not None]
        while stack:
            p = stack.pop()
            if p not in seen:
                seen.add(p)
                stack.extend(self.parents(p)[0])
        return seen

    def first_of(self, cands: set[str], key: Any) -> str:
        """§4: the earliest by (committer time, generation, id) of the candidates that have no
        other candidate as an ancestor."""
        roots = [c for c in cands if not any(d != c and d in self.ancestors(c) for d in cands)]
        return min(roots, key=key)  # type: ignore[no-any-return]

    # -- the full sweep ----------------------------------------------------------------------

    def sweep(self) -> dict[str, Expect]:
        reach, reach_tags = self.reachable()
        # every commit in the object database, for unreachable locations
        own = pygit2.Odb()
        objdir = str(self.common / "objects")
        own.add_backend(pygit2.OdbBackendPack(objdir), 1)
        own.add_backend(pygit2.OdbBackendLoose(objdir, 0, False), 2)
        own_ids = {str(o) for o in own}
        everything = {str(o) for o in self.repo.odb}
        all_commits = {o for o in everything if self.commit(o) is not None}
        gen = self.generation(all_commits)
        exp: dict[str, Expect] = {}

        def get(s: str) -> Expect:
            return exp.setdefault(digest(s), Expect())

        first: dict[str, set[str]] = {}  # secret → every commit (or tag) that introduces it
        last: dict[str, tuple[Any, str]] = {}
        trunc: set[str] = set()
        keys: dict[str, tuple[int, int, str]] = {}  # a tag's: its tagger's time, after its target

        def key(c: str) -> tuple[int, int, str]:
            if c in keys:
                return keys[c]
            cm = self.commit(c)
            assert cm is not None
            return (cm.commit_time, gen[c], c)

        loc_best: dict[tuple[bytes, str], tuple[int, set[str]]] = {}
        held_blobs: set[str] = set()
        for c in sorted(reach):
            cm = self.commit(c)
            assert cm is not None
            tree = self.tree_of(c)
            held_blobs.update(v for v in self.flat(str(cm.tree_id)).values() if isinstance(v, str))
            ps, unread = self.parents(c)
            ptrees = [self.tree_of(p) for p in ps]
            for path, blob in tree.items():
                if blob is UNKNOWN or path.endswith(b"/"):
                    continue
                ss = self.secrets(blob)
                if ss is UNKNOWN or not ss:
                    continue
                # the location: first commit that introduced this blob at this path
                pblobs = [self.at(pt, path) for pt in ptrees]
                if blob not in pblobs:
                    state = 1 if (unread or UNKNOWN in pblobs) else 0
                    cur = loc_best.get((path, blob))
                    if cur is None or state < cur[0]:
                        loc_best[(path, blob)] = (state, {c})
                    elif state == cur[0]:
                        cur[1].add(c)
                for s in ss:
                    if s not in last or (cm.commit_time, gen[c], c) > last[s][0]:
                        last[s] = ((cm.commit_time, gen[c], c), c)
                    psec = [self.secrets(b) for b in pblobs]
                    if any(p is not UNKNOWN and s in p for p in psec):
                        continue
                    if unread or any(p is UNKNOWN for p in psec):
                        trunc.add(s)
                        continue
                    first.setdefault(s, set()).add(c)
        for (path, blob), (_, cands) in loc_best.items():
            c = self.first_of(cands, key)
            for s, line, col in self.scan(blob):
                get(s).locations.add(("history", path.decode("utf-8", "replace"), line, col, c, blob))
        if not self.prefix:
            for c in sorted(all_commits):
                cm = self.commit(c)
                assert cm is not None
                for s, line, col in self.scan_bytes(cm.raw_message):
                    if c in reach:
                        get(s).locations.add(("message", f"commit:{c}", line, col, c, None))
                        first.setdefault(s, set()).add(c)
                        if s not in last or (cm.commit_time, gen[c], c) > last[s][0]:
                            last[s] = ((cm.commit_time, gen[c], c), c)
                    elif c in own_ids:
                        get(s).locations.add(("unreachable", f"commit:{c}", line, col, c, None))
            for t in sorted(everything):
                tag = self.get(t)
                if not isinstance(tag, pygit2.Tag):
                    continue
                raw = self.repo.odb.read(t)[1]
                msg = raw.split(b"\n\n", 1)[1] if b"\n\n" in raw else b""
                for s, line, col in self.scan_bytes(msg):
                    name = tag.name
                    if t in reach_tags:
                        get(s).locations.add(("message", f"tag:{name}", line, col, t, None))
                        target = str(tag.target)
                        tt = tag.tagger.time if tag.tagger else 0
                        keys[t] = (tt, gen.get(target, 0) + 1, t)
                        first.setdefault(s, set()).add(t)
                        if s not in last or keys[t] > last[s][0]:
                            last[s] = (keys[t], t)
                    elif t in own_ids:
                        get(s).locations.add(("unreachable", f"tag:{name}", line, col, t, None))
        # the index
        index_blobs: set[str] = set()
        head = self.head()
        head_flat = self.flat(str(self.commit(head).tree_id)) if head and self.commit(head) else {}  # type: ignore[union-attr]
        if not self.repo.is_bare:
            for e in self.index_entries():
                b = e[1]
                index_blobs.add(b)
                path = e[0]
                if head_flat.get(path) == b or self.scan(b) is UNKNOWN:
                    continue
                if self.prefix and not (path == self.prefix or path.startswith(self.prefix + b"/")):
                    continue
                for s, line, col in self.scan(b):
                    get(s).locations.add(("staged", path.decode("utf-8", "replace"), line, col, None, b))
        # unreachable blobs: own, not in any reachable tree, not in the index
        unreach_commits = sorted(c for c in all_commits if c not in reach and c in own_ids)
        for b in sorted(own_ids):
            obj = self.get(b)
            if not isinstance(obj, pygit2.Blob) or b in held_blobs or b in index_blobs:
                continue
            found = self.scan(b)
            if found is UNKNOWN or not found:
                continue
            best: dict[bytes, tuple[int, str]] = {}
            for c in unreach_commits:
                cm = self.commit(c)
                assert cm is not None
                for path, blob in self.scoped(self.flat(str(cm.tree_id))).items():
                    if blob == b and (path not in best or (cm.commit_time, c) < best[path]):
                        best[path] = (cm.commit_time, c)
            for s, line, col in found:
                if best:
                    for path, (_, c) in best.items():
                        get(s).locations.add(
                            ("unreachable", path.decode("utf-8", "replace"), line, col, c, b)
                        )
                elif not self.prefix:
                    get(s).locations.add(("unreachable", f"blob:{b}", line, col, None, b))
        # presence
        head_tree = self.tree_of(head) if head and self.commit(head) else None
        refs = self.refs()
        for d, e in list(exp.items()):
            s = next((s for s in {*first, *last, *trunc, *self._all_secrets()} if digest(s) == d), None)
            assert s is not None
            e.first_seen = None if s in trunc or s not in first else self.first_of(first[s], key)
            e.first_seen_truncated = s in trunc
            e.last_seen = last[s][1] if s in last else None
            e.present_at_head = None if head_tree is None else self._holds(head_tree, s)
            names = []
            for name, obj in refs.items():
                if isinstance(obj, pygit2.Commit) and self._holds(self.tree_of(str(obj.id)), s):
                    names.append(name)
            e.present_at_refs = tuple(sorted(names))
        return exp

    def _all_secrets(self) -> set[str]:
        out: set[str] = set()
        for v in self._scan.values():
            if v is not UNKNOWN:
                out.update(x[0] for x in v)
        for c in self._msgs():
            out.update(x[0] for x in c)
        return out

    def _msgs(self) -> list[list[tuple[str, int, int]]]:
        out = []
        for o in self.repo.odb:
            obj = self.get(str(o))
            if isinstance(obj, pygit2.Commit):
                out.append(self.scan_bytes(obj.raw_message))
            elif isinstance(obj, pygit2.Tag):
                raw = self.repo.odb.read(o)[1]
                out.append(self.scan_bytes(raw.split(b"\n\n", 1)[1] if b"\n\n" in raw else b""))
        return out

    def _holds(self, flat: dict[bytes, Any], s: str) -> bool:
        return any(isinstance(b, str) and s in self.held(b) for b in flat.values() if b is not UNKNOWN)

    # -- a range -----------------------------------------------------------------------------

    def _left(self, cflat: dict[bytes, Any], path: bytes, blob: str) -> bool:
        """Whether the commit whose whole tree is `cflat` deletes `path` or puts another blob
        there (False when an unreadable tree of the commit covers it: that proves no move)."""
        if path in cflat:
            return bool(cflat[path] != blob)
        covered = (k for k, v in cflat.items() if v is UNKNOWN)
        return not any(k == b"" or (k.endswith(b"/") and path.startswith(k)) for k in covered)

    def range(self, includes: list[str], excludes: list[str]) -> dict[str, Expect]:
        def ancestors(starts: list[str]) -> set[str]:
            seen: set[str] = set()
            stack = list(starts)
            while stack:
                c = stack.pop()
                if c in seen or self.commit(c) is None:
                    continue
                seen.add(c)
                stack.extend(self.parents(c)[0])
            return seen

        commits = ancestors(includes) - ancestors(excludes)
        depth: dict[str, int] = {}

        def d(c: str) -> int:
            if c not in depth:
                depth[c] = 1 + max((d(p) for p in self.parents(c)[0] if p in commits), default=0)
            return depth[c]

        intro: dict[str, list[tuple[Any, str, bytes | None, str | None]]] = {}
        locs: dict[tuple[bytes, str], tuple[Any, str, set[str]]] = {}
        for c in sorted(commits):
            cm = self.commit(c)
            assert cm is not None
            k = (d(c), cm.commit_time, c)
            tree = self.tree_of(c)
            ps = self.parents(c)[0]
            pflats = [self.flat(str(self.commit(p).tree_id)) for p in ps]  # type: ignore[union-attr]
            cflat = self.flat(str(cm.tree_id))
            for path, blob in tree.items():
                if blob is UNKNOWN or path.endswith(b"/"):
                    continue
                ss = self.secrets(blob)
                if ss is UNKNOWN:
                    continue
                for s in ss:
                    psec = [self.secrets(self.at(pf, path)) for pf in pflats]
                    if any(p is UNKNOWN or s in p for p in psec):
                        continue
                    # a move: a parent held s at a path this commit deletes or changes (left as
                    # it was, the old path makes this a copy: a new introduction)
                    moved = None
                    for pf in pflats:
                        for pp, pb in sorted(pf.items()):
                            if isinstance(pb, str) and self._left(cflat, pp, pb) and s in self.held(pb):
                                moved = pp.decode("utf-8", "replace")
                                break
                        if moved:
                            break
                    intro.setdefault(s, []).append((k, c, path, moved))
                    cur = locs.get((path, blob))
                    if cur is None or k < cur[0]:
                        locs[(path, blob)] = (k, c, (cur[2] if cur else set()) | {s})
                    else:
                        cur[2].add(s)
            if not self.prefix:
                for s, _, _ in self.scan_bytes(cm.raw_message):
                    intro.setdefault(s, []).append((k, c, None, None))
        exp: dict[str, Expect] = {}
        for (path, blob), (_, c, ss) in locs.items():
            for s, line, col in self.scan(blob):
                if s in ss:
                    exp.setdefault(digest(s), Expect()).locations.add(
                        ("history", path.decode("utf-8", "replace"), line, col, c, blob)
                    )
        for c in commits:
            cm = self.commit(c)
            assert cm is not None
            if not self.prefix:
                for s, line, col in self.scan_bytes(cm.raw_message):
                    exp.setdefault(digest(s), Expect()).locations.add(
                        ("message", f"commit:{c}", line, col, c, None)
                    )
        head = includes[0]
        refs = self.refs()
        for s, lst in intro.items():
            lst.sort(key=lambda x: (x[0], x[2] or b"", x[3] or ""))
            e = exp.setdefault(digest(s), Expect())
            paths = {p for _, _, p, _ in lst if p is not None}

            def holds_at(flat: dict[bytes, Any], s: str = s, paths: set[bytes] = paths) -> bool:
                return any(s in self.held(self.at(flat, p)) for p in paths if self.at(flat, p) is not UNKNOWN)

            e.first_seen = lst[0][1]
            e.moved_from = lst[0][3] if all(m is not None for *_, m in lst) else None
            best = None
            for c in commits:
                cm = self.commit(c)
                assert cm is not None
                msg_has = any(x[0] == s for x in self.scan_bytes(cm.raw_message)) and not self.prefix
                if holds_at(self.flat(str(cm.tree_id))) or msg_has:
                    k2 = (cm.commit_time, d(c), c)
                    if best is None or k2 > best[0]:
                        best = (k2, c)
            e.last_seen = best[1] if best else None
            e.present_at_head = holds_at(self.flat(str(self.commit(head).tree_id)))  # type: ignore[union-attr]
            e.present_at_refs = tuple(
                sorted(
                    n
                    for n, o in refs.items()
                    if isinstance(o, pygit2.Commit) and holds_at(self.flat(str(o.tree_id)))
                )
            )
        return exp

    # -- the index -----------------------------------------------------------------------------

    def index_entries(self) -> list[tuple[bytes, str, int]]:
        """(path, blob, stage) from pygit2's index API (conflicts from `Index.conflicts`)."""
        idx = self.repo.index
        out: list[tuple[bytes, str, int]] = []
        conflicted: set[str] = set()
        if idx.conflicts is not None:
            for trio in idx.conflicts:
                for stage, e in zip((1, 2, 3), trio, strict=True):
                    if e is not None:
                        conflicted.add(e.path)
                        out.append((os.fsencode(e.path), str(e.id), stage))
        out.extend((os.fsencode(e.path), str(e.id), 0) for e in idx if e.path not in conflicted)
        return out

    def staged(self) -> dict[str, Expect]:
        head = self.head()
        flat = self.flat(str(self.commit(head).tree_id)) if head and self.commit(head) else {}  # type: ignore[union-attr]
        exp: dict[str, Expect] = {}
        for path, b, stage in self.index_entries():
            if stage == 1:
                continue
            if self.prefix and not (path == self.prefix or path.startswith(self.prefix + b"/")):
                continue
            hb = flat.get(path)
            if hb == b:
                continue
            held = self.secrets(hb) if hb else set()
            found = self.scan(b)
            if found is UNKNOWN:
                continue
            for s, line, col in found:
                if held is not UNKNOWN and s in held:
                    continue
                exp.setdefault(digest(s), Expect()).locations.add(
                    ("staged", path.decode("utf-8", "replace"), line, col, None, b)
                )
        return exp
