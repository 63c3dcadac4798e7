"""Reading trees: entries, paths in a tree, every blob under a tree, and tree-to-tree changes.

Every walk is iterative or bounded by the tree's own depth, and reports what it could not read
through `skip(reason, example)` instead of stopping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pygit2

from scanner.git.objects import MODE_GITLINK, MODE_TREE, parse_commit, tree_entries
from scanner.git.refs import head_commit
from scanner.git.repo import read_raw
from scanner.skips import CORRUPT, GITLINK, MISSING

SkipSink = Callable[[str, str], None]  # (reason, example): where a walk reports what it could not read


def display(path: bytes) -> str:
    return path.decode("utf-8", "replace")


def under(path: bytes, prefix: bytes) -> bool:
    return not prefix or path == prefix or path.startswith(prefix + b"/")


def read_tree(repo: pygit2.Repository, tree: bytes) -> list[tuple[bytes, bytes, bytes]] | None:
    try:
        _, data = read_raw(repo, tree)
    except (pygit2.GitError, KeyError, ValueError, OSError):
        return None
    return tree_entries(data)


def walk_tree(
    repo: pygit2.Repository, tree: bytes, prefix: bytes, skip: SkipSink, base: bytes = b""
) -> Iterator[tuple[bytes, bytes]]:
    """(path, blob) of every blob under `tree` within `prefix`; unreadable trees and gitlinks counted."""
    stack = [(tree, base)]
    while stack:
        t, b = stack.pop()
        entries = read_tree(repo, t)
        if entries is None:
            reason = MISSING if not repo.odb.exists(pygit2.Oid(raw=t)) else CORRUPT
            skip(reason, f"tree {t.hex()} ({display(b) or '/'})")
            continue
        for mode, name, oid in entries:
            path = b + name
            if mode == MODE_TREE:
                if under(path, prefix) or under(prefix, path):
                    stack.append((bytes(oid), path + b"/"))
            elif mode == MODE_GITLINK:
                if under(path, prefix):
                    skip(GITLINK, f"{display(path)} → {bytes(oid).hex()}")
            elif under(path, prefix):
                yield path, bytes(oid)


def changed(
    repo: pygit2.Repository,
    tree: bytes,
    parents: list[bytes | None],
    prefix: bytes,
    skip: SkipSink,
) -> Iterator[tuple[bytes, bytes]]:
    """(path, blob) of `tree` whose blob differs from every parent's blob at that path, in the
    order of a depth-first walk (iterative: any depth); a gitlink that differs is counted."""
    stack = [_changed_level(repo, tree, parents, prefix, skip, b"")]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
        elif step[0] is None:
            stack.append(_changed_level(repo, step[1], step[2], prefix, skip, step[3]))
        else:
            yield step[0], step[1]


def _changed_level(
    repo: pygit2.Repository,
    tree: bytes,
    parents: list[bytes | None],
    prefix: bytes,
    skip: SkipSink,
    base: bytes,
) -> Iterator[tuple[bytes | None, bytes, list[bytes | None], bytes]]:
    """One tree of `changed`: (path, blob, [], b"") for a changed blob, (None, subtree, its
    parents' subtrees, its path/) for a subtree to walk."""
    entries = read_tree(repo, tree)
    if entries is None:
        skip(MISSING if not repo.odb.exists(pygit2.Oid(raw=tree)) else CORRUPT, f"tree {tree.hex()}")
        return
    pentries: list[dict[bytes, tuple[bytes, bytes]]] = []
    for pt in parents:
        pe = read_tree(repo, pt) if pt is not None else []
        pentries.append({n: (m, bytes(o)) for m, n, o in pe or ()})
    for mode, name, oid in entries:
        path = base + name
        oid = bytes(oid)
        if mode == MODE_TREE:
            if not (under(path, prefix) or under(prefix, path)):
                continue
            subs = [pe[name][1] if name in pe and pe[name][0] == MODE_TREE else None for pe in pentries]
            if oid in subs:
                continue
            yield None, oid, list(subs), path + b"/"
        elif not under(path, prefix):
            continue
        elif mode == MODE_GITLINK:  # a submodule's commit: another repository's history, counted
            if not any(name in pe and pe[name] == (mode, oid) for pe in pentries):
                skip(GITLINK, f"{display(path)} → {oid.hex()}")
        elif not any(name in pe and pe[name][1] == oid and pe[name][0] != MODE_TREE for pe in pentries):
            yield path, oid, [], b""


def gone(repo: pygit2.Repository, old: bytes, new: bytes | None) -> Iterator[tuple[bytes, bytes]]:
    """(path, blob) of the blobs of tree `old` that tree `new` lacks or holds with another blob id
    (None: `new` has no tree there). Identical subtrees are skipped, so the cost follows the
    change; a part of either tree that cannot be read yields nothing (it proves no move).
    Iterative, in depth-first order."""
    stack = [_gone_level(repo, old, new, b"")]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
        elif step[0] is None:
            stack.append(_gone_level(repo, step[1], step[2], step[3]))
        else:
            yield step[0], step[1]


def _gone_level(
    repo: pygit2.Repository, old: bytes, new: bytes | None, base: bytes
) -> Iterator[tuple[bytes | None, bytes, bytes | None, bytes]]:
    entries = read_tree(repo, old)
    if entries is None:
        return
    now: dict[bytes, tuple[bytes, bytes]] = {}
    if new is not None:
        new_entries = read_tree(repo, new)
        if new_entries is None:
            return
        now = {n: (m, bytes(o)) for m, n, o in new_entries}
    for mode, name, oid in entries:
        oid = bytes(oid)
        cur = now.get(name)
        if mode == MODE_TREE:
            sub = cur[1] if cur is not None and cur[0] == MODE_TREE else None
            if sub != oid:
                yield None, oid, sub, base + name + b"/"
        elif mode == MODE_GITLINK:
            continue
        elif cur is None or cur[0] in (MODE_TREE, MODE_GITLINK) or cur[1] != oid:
            yield base + name, oid, None, b""


TreeMemo = dict[bytes, dict[bytes, tuple[bytes, bytes]] | None]
"""Parsed trees by id ({name: (mode, id)}, None when unreadable): trees never change, and a walk of
every index entry reads the same few from the root thousands of times over."""


def _parsed_tree(repo: pygit2.Repository, tree: bytes) -> dict[bytes, tuple[bytes, bytes]] | None:
    try:
        _, data = read_raw(repo, tree)
    except (pygit2.GitError, KeyError, ValueError, OSError):
        return None
    out: dict[bytes, tuple[bytes, bytes]] = {}
    for mode, name, oid in tree_entries(data):
        out.setdefault(name, (mode, bytes(oid)))  # the first of duplicate names, as git reads it
    return out


def lookup(
    repo: pygit2.Repository, tree: bytes | None, path: bytes, memo: TreeMemo | None = None
) -> tuple[bytes | None, bool]:
    """(blob id at `path` in `tree` or None, whether the trees on the way could be read); `memo`
    keeps the trees parsed on the way for the next lookup."""
    parts = path.split(b"/")
    cur = tree
    for i, name in enumerate(parts):
        if cur is None:
            return None, True
        if memo is not None and cur in memo:
            entries = memo[cur]
        else:
            entries = _parsed_tree(repo, cur)
            if memo is not None:
                memo[cur] = entries
        if entries is None:
            return None, False
        nxt = None
        found = entries.get(name)
        if found is not None:
            mode, oid = found
            last = i == len(parts) - 1
            if last and mode not in (MODE_TREE, MODE_GITLINK):
                return oid, True
            if not last and mode == MODE_TREE:
                nxt = oid
        cur = nxt
    return None, True


def unreadable_on_way(
    repo: pygit2.Repository, tree: bytes, path: bytes, memo: TreeMemo | None = None
) -> tuple[str, bytes]:
    """(MISSING or CORRUPT, the tree) for the first tree on the way to `path` that cannot be read
    (after `lookup` said one could not): absent from the repository, or present and damaged."""
    cur = tree
    for name in path.split(b"/"):
        entries = memo[cur] if memo is not None and cur in memo else _parsed_tree(repo, cur)
        if entries is None:
            try:
                there = bool(repo.odb.exists(pygit2.Oid(raw=cur)))
            except (pygit2.GitError, ValueError):
                there = False
            return (CORRUPT if there else MISSING), cur
        found = entries.get(name)
        if found is None or found[0] != MODE_TREE:
            break
        cur = found[1]
    return MISSING, cur


def unchanged_dirs(
    repo: pygit2.Repository, head_tree: bytes, cache: dict[bytes, bytes | None], memo: TreeMemo
) -> set[bytes]:
    """Directories whose cache-tree id (scanner/git/index.py) is HEAD's tree there: nothing under
    them is staged. Git writes a commit's trees from the cache-tree, so this is what the commit
    would hold; only the trees on the paths git invalidated are read."""
    same: set[bytes] = set()
    stack = [(b"", head_tree)]
    while stack:
        path, tree = stack.pop()
        cached = cache.get(path)
        if cached is not None and cached == tree:
            same.add(path)
            continue
        if path not in cache:
            continue
        if tree not in memo:
            memo[tree] = _parsed_tree(repo, tree)
        for name, (mode, oid) in (memo[tree] or {}).items():
            if mode == MODE_TREE:
                stack.append((path + b"/" + name if path else name, oid))
    return same


def under_any(path: bytes, dirs: set[bytes]) -> bool:
    """Whether `path` lies under one of `dirs` (b"" is the root)."""
    if b"" in dirs:
        return True
    i = path.find(b"/")
    while i != -1:
        if path[:i] in dirs:
            return True
        i = path.find(b"/", i + 1)
    return False


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


def history_holds_path(repo: pygit2.Repository, tips: list[bytes], path: bytes) -> bool:
    """Whether any commit reachable from `tips` has an entry (file or directory) at `path`.

    Commits are read newest first from the tips; a root tree already seen is not looked in again,
    so the cost is the commits plus the distinct trees on the way to `path`."""
    from scanner.git.graph import CommitCache, walk

    commits = CommitCache(repo)
    parts = path.split(b"/")
    seen_trees: set[bytes] = set()

    def parents(c: bytes) -> tuple[bytes, ...]:
        got = commits.get(c)
        return got[0].parents if got is not None else ()

    for c in walk(tips, parents):
        got = commits.get(c)
        if got is None:
            continue
        meta = got[0]
        if meta.tree in seen_trees:
            continue
        seen_trees.add(meta.tree)
        cur: bytes | None = meta.tree
        for i, name in enumerate(parts):
            entries = read_tree(repo, cur) if cur is not None else None
            if entries is None:
                break
            hit = next(((m, bytes(o)) for m, n, o in entries if n == name), None)
            if hit is None:
                break
            if i == len(parts) - 1:
                return True
            cur = hit[1] if hit[0] == MODE_TREE else None
    return False
