"""The `--staged` scan (ARCHITECTURE.md §4 "Staged"): what the index adds over HEAD.

The index is parsed by scanner/git/index.py (with each entry's stage); the working tree is never
read in this mode.
"""

from __future__ import annotations

import pygit2

from scanner.detect.engine import Matcher
from scanner.git.index import load_index
from scanner.git.refs import head_commit
from scanner.git.repo import RepoSite
from scanner.git.trees import TreeMemo, head_tree, lookup, unchanged_dirs, under_any, unreadable_on_way
from scanner.model import Provenance
from scanner.skips import CORRUPT
from scanner.sources.base import Found, Place, ScanContext, SourceResult, secret_id
from scanner.sources.blobs import BlobScanner
from scanner.sources.pragmas import added_pragmas, all_pragmas


def staged_scan(
    repo: pygit2.Repository, matcher: Matcher, cap: int, prefix: bytes = b"", change: bool = True
) -> SourceResult:
    """Stage-0 entries that differ from HEAD and stages 2–3 of conflicts; a secret counts when
    HEAD's blob at that path does not hold it (an unborn HEAD is the empty tree). With `change`
    (`--staged`: the index is the change under scan) the pragmas it adds are told apart."""
    res = SourceResult()
    res.head = head_commit(repo)
    tree = head_tree(repo)
    scanner = BlobScanner(repo, matcher, cap, res)
    index = load_index(repo)
    entries, cache = index.entries, index.cache
    if index.damage is not None:  # what it still holds is compared; the rest is a counted gap
        res.skip(CORRUPT, index.damage)
    conflicted = {e.path for e in entries if e.stage}
    seen: set[tuple[bytes, bytes]] = set()
    # HEAD's trees parsed once each; directories the cache-tree says are HEAD's are not looked at
    memo: TreeMemo = {}
    same = unchanged_dirs(repo, tree, cache, memo) if tree is not None and cache and not conflicted else set()
    for e in entries:
        if e.stage == 1 or (e.stage == 0 and e.path in conflicted):
            continue
        if prefix and not (e.path == prefix or e.path.startswith(prefix + b"/")):
            continue
        if (e.path, e.blob) in seen:
            continue
        seen.add((e.path, e.blob))
        if same and under_any(e.path, same):
            continue  # HEAD holds this directory as the index does
        at_head, readable = lookup(repo, tree, e.path, memo) if tree is not None else (None, True)
        if not readable and tree is not None:
            reason, where = unreadable_on_way(repo, tree, e.path, memo)
            res.skip(
                reason, f"tree {where.hex()} (HEAD's, on the way to {e.path.decode('utf-8', 'replace')})"
            )
        if at_head == e.blob:
            continue
        hits = scanner.hits(e.blob, e.path.decode("utf-8", "replace"))
        if not hits:
            continue
        held = scanner.keys(at_head)
        if held is None:
            held = frozenset()  # HEAD's blob unreadable: count what the staged blob holds
        kept = tuple((m, p) for m, p in hits if secret_id(m) not in held)
        if kept:
            added = frozenset[int]()
            # the pragmas the index adds, against HEAD's blob at the path (sources/pragmas.py)
            if change and any(m.pragma for m, _ in kept):
                data = scanner.text(e.blob)
                base = scanner.pragma_lines(at_head) if readable else None
                added = all_pragmas(kept) if data is None else added_pragmas(kept, data, [base])
            res.founds.append(Found(kept, [Place("staged", e.path, e.blob, pragmas_added=added)]))
            for m, _ in kept:
                res.provenance.setdefault(secret_id(m), Provenance())
    res.sources = {"staged": len(seen)}
    return res


class StagedSource:
    """What the index adds over HEAD (`--staged`)."""

    def __init__(self, repo: pygit2.Repository, site: RepoSite, change: bool = True) -> None:
        self.repo = repo
        self.site = site
        self.change = change  # False in a tree scan, where the index is part of the tree's state

    def scan(self, ctx: ScanContext) -> SourceResult:
        return staged_scan(self.repo, ctx.matcher, ctx.blob_cap, self.site.prefix, self.change)
