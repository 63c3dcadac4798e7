"""The range scan (`--range`, ARCHITECTURE.md §4 "Range"): what the commits of a range introduce.

Only the parent-to-commit tree diff of each commit is read, so the cost follows the change; a
secret that a parent held at a path the commit deletes or changes is reported with `moved_from`.
"""

from __future__ import annotations

import pygit2

from scanner.detect.engine import Matcher
from scanner.errors import ScanError
from scanner.git.graph import CommitCache, generations, range_walk, walk
from scanner.git.objects import OBJ_COMMIT, OBJ_TAG, CommitMeta, parse_commit, parse_tag
from scanner.git.refs import FETCH_HINT, list_refs, parse_range, resolve_rev
from scanner.git.repo import RepoSite, read_raw, shallow_commits
from scanner.git.trees import blob_at, changed, display, gone, lookup
from scanner.model import Provenance
from scanner.skips import MISSING
from scanner.sources.base import (
    Found,
    Hits,
    Place,
    ScanContext,
    SourceResult,
    commit_ref,
    scan_text,
    secret_id,
)
from scanner.sources.blobs import BlobScanner
from scanner.sources.pragmas import PragmaLines, added_pragmas, all_pragmas

OrderKey = tuple[int, int, str]


def range_scan(
    repo: pygit2.Repository, matcher: Matcher, cap: int, expr: str, prefix: bytes = b""
) -> SourceResult:
    """What the commits of a range introduce (exit 2 for a bad expression, 3 for a missing base)."""
    includes, excludes = parse_range(expr)
    inc = [resolve_rev(repo, n) for n in includes]
    exc = [resolve_rev(repo, n) for n in excludes]
    res = SourceResult()
    res.head = inc[0]
    shallow = shallow_commits(repo)
    commits = CommitCache(repo)
    in_range: dict[bytes, CommitMeta] = {}
    messages: dict[bytes, bytes] = {}
    walked = range_walk(commits, inc, exc, shallow)
    if walked is not None:
        for c, (meta, message) in walked.items():
            in_range[c], messages[c] = meta, message
    else:  # committer times go backwards somewhere: walk all of the excluded side

        def beyond(c: bytes) -> tuple[bytes, ...]:
            got = commits.get(c)
            return () if got is None or c in shallow else got[0].parents

        excluded = set(walk(exc, beyond))

        def inside(c: bytes) -> list[bytes]:
            return [p for p in in_range[c].parents if p not in excluded]

        for c in walk((c for c in inc if c not in excluded), inside):
            got = commits.get(c)
            if got is None:
                raise commits.unreadable(c)
            if c in shallow:
                raise ScanError(
                    f"the range reaches the shallow clone's boundary at {c.hex()} before leaving it; {FETCH_HINT}"
                )
            in_range[c], messages[c] = got

    res.commits = len(in_range)
    depth = generations(in_range)  # depth within the range: 1 for commits whose parents lie outside it

    scanner = BlobScanner(repo, matcher, cap, res)
    left_memo: dict[tuple[bytes, bytes, bool], dict[str, bytes]] = {}

    def left_behind(ptree: bytes, tree: bytes, pragma: bool) -> dict[str, bytes]:
        """secret → the first path (byte order) holding it among the blobs of the parent tree
        `ptree` that `tree` deletes or changes (for moved_from; cost follows the change). With
        `pragma`, pragma-marked secrets too: a pragma'd line that moved is a move, whatever a
        pragma new at its path may say."""
        got = left_memo.get((ptree, tree, pragma))
        if got is not None:
            return got
        out: dict[str, bytes] = {}
        for path, blob in gone(repo, ptree, tree):
            for k in scanner.keys(blob, pragma=pragma) or ():
                if k not in out or path < out[k]:
                    out[k] = path
        left_memo[(ptree, tree, pragma)] = out
        return out

    def order(c: bytes) -> OrderKey:
        return (depth[c], in_range[c].committer.time, c.hex())

    intro: dict[str, list[tuple[OrderKey, bytes, bytes | None, str | None]]] = {}  # key, commit, path, moved
    places: dict[tuple[bytes, bytes], tuple[OrderKey, bytes, set[str]]] = {}
    undecided: set[str] = set()
    for c, meta in in_range.items():
        ptrees: list[bytes | None] = []
        for p in meta.parents:
            pm = commits.get(p)
            ptrees.append(pm[0].tree if pm else None)
        for path, blob in changed(repo, meta.tree, ptrees, prefix, res.skip):
            hits = scanner.hits(blob, display(path))
            if not hits:
                continue
            # pragma-marked secrets go on to the report too: the suppress stage counts them
            keys = {secret_id(m) for m, _ in hits}
            # what the gate vouches for: a secret no pragma suppresses, or a verified one (a pragma
            # the change may have added does not suppress it by default)
            plain = {secret_id(m) for m, _ in hits if not m.pragma}
            vouched = plain | {secret_id(m) for m, _ in hits if m.verified}
            parent_keys: list[frozenset[str] | None] = []
            for pt in ptrees:
                pb, readable = lookup(repo, pt, path) if pt is not None else (None, False)
                parent_keys.append(scanner.keys(pb) if readable else None)
            for k in sorted(keys):
                if any(pk is not None and k in pk for pk in parent_keys):
                    continue
                if any(pk is None for pk in parent_keys):
                    if k in vouched:  # a suppressed secret is no gap in what the gate vouches for
                        undecided.add(k)
                    continue
                # a move: a parent held k at a path this commit deletes or changes (a copy, the
                # old path left as it was, is a new introduction)
                moved = None
                for pt in ptrees:
                    was = left_behind(pt, meta.tree, k not in plain).get(k) if pt is not None else None
                    if was is not None:
                        moved = display(was)
                        break
                intro.setdefault(k, []).append((order(c), c, path, moved))
                cur = places.get((path, blob))
                if cur is None or order(c) < cur[0]:
                    places[(path, blob)] = (order(c), c, (cur[2] if cur else set()) | {k})
                else:
                    cur[2].add(k)
        if not prefix:
            mh = scan_text(matcher, messages[c])
            res.nbytes += len(messages[c])
            if mh:
                where = b"commit:" + c.hex().encode()
                # a commit message of the range is the change's own text: every pragma in it is added
                place = Place("message", where, None, c, meta.committer.time, pragmas_added=all_pragmas(mh))
                res.founds.append(Found(mh, [place]))
                for m, _ in mh:
                    if not m.pragma:
                        intro.setdefault(secret_id(m), []).append((order(c), c, None, None))

    def pragmas_added(c: bytes, path: bytes, blob: bytes, kept: Hits) -> frozenset[int]:
        """The hits whose pragma commit `c` adds at `path` (against each parent's blob there)."""
        if not any(m.pragma for m, _ in kept):
            return frozenset()
        data = scanner.text(blob)
        if data is None:
            return all_pragmas(kept)
        parents: list[PragmaLines | None] = []
        for p in in_range[c].parents:
            pm = commits.get(p)
            pb, readable = lookup(repo, pm[0].tree, path) if pm is not None else (None, False)
            parents.append(scanner.pragma_lines(pb) if readable else None)
        return added_pragmas(kept, data, parents)

    for (path, blob), (_, c, keys) in sorted(places.items()):
        hits = scanner.hits(blob) or ()
        kept = tuple((m, p) for m, p in hits if secret_id(m) in keys)
        added = pragmas_added(c, path, blob, kept)
        res.founds.append(
            Found(kept, [Place("history", path, blob, c, in_range[c].committer.time, pragmas_added=added)])
        )
    # provenance, at the paths the range introduced (scope: range)
    refs, _ = list_refs(repo)
    tips: list[tuple[str, bytes]] = []
    for r in refs:
        try:
            obj_id = r.target
            for _ in range(16):
                otype, data = read_raw(repo, obj_id)
                if otype != OBJ_TAG:
                    break
                obj_id = parse_tag(data)[0].target
            if otype == OBJ_COMMIT:
                tips.append((r.name, parse_commit(data)[0].tree))
        except (pygit2.GitError, ValueError, KeyError, TypeError, AttributeError):
            continue
    head_meta = commits.get(inc[0])
    for k, lst in intro.items():
        lst.sort(key=lambda x: (x[0], x[2] or b"", x[3] or ""))
        paths = {p for _, _, p, _ in lst if p is not None}
        first_c = lst[0][1]
        moved = lst[0][3] if all(mv is not None for *_, mv in lst) else None

        def holds_at(tree: bytes | None, k: str = k, paths: set[bytes] = paths) -> bool:
            return tree is not None and any(
                k in (scanner.keys(blob_at(repo, tree, p), pragma=True) or ()) for p in paths
            )

        last: tuple[tuple[int, int, str], bytes] | None = None
        for c, meta in in_range.items():
            if holds_at(meta.tree) or any(lc == c and lp is None for _, lc, lp, _ in lst):
                lk = (meta.committer.time, depth[c], c.hex())
                if last is None or lk > last[0]:
                    last = (lk, c)
        res.provenance[k] = Provenance(
            first_seen=commit_ref(first_c, in_range[first_c], depth[first_c]),
            last_seen=commit_ref(last[1], in_range[last[1]], depth[last[1]]) if last else None,
            present_at_head=holds_at(head_meta[0].tree) if head_meta else None,
            present_at_refs=tuple(sorted(n for n, t in tips if holds_at(t))),
            moved_from=moved,
        )
    if undecided - set(intro):
        res.skip(MISSING, "a parent's blob needed to tell whether the range introduced a secret")
    res.sources = {"history": res.blobs}
    return res


class RangeSource:
    """What the commits of a rev-list expression introduce (`--range`)."""

    def __init__(self, repo: pygit2.Repository, site: RepoSite, expr: str) -> None:
        self.repo = repo
        self.site = site
        self.expr = expr

    def scan(self, ctx: ScanContext) -> SourceResult:
        return range_scan(self.repo, ctx.matcher, ctx.blob_cap, self.expr, self.site.prefix)
