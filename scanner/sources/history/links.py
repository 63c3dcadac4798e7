"""The trees that lead to interesting ids (matched or unreadable blobs), walked on demand.

`Trees` parses only the trees of the upward closure (the trees that hold an interesting id at some
depth), so a commit's interesting content costs a few tree reads, not a walk of the whole tree.
The sweep's workers, which read every tree in pack order and know each tree's subtrees, hand in the
closure's trees already sorted (`sort_entries` over `wanted_entries`): on git/git's history, whose
test keyrings put every version of the root and `t/` trees in the closure, reading 1.7 GB of trees
through libgit2 and parsing all 39 million of their entries here cost half the sweep's CPU.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import pygit2

from scanner.git.objects import ENTRY_FULL, MODE_GITLINK, MODE_TREE, tree_entries
from scanner.git.repo import read_raw

K_BLOB, K_UNREAD = 0, 1
Entry = tuple[bytes, bytes, int]  # (path, id, kind)
Sorted = tuple[list[tuple[bytes, bytes]], list[Entry]]  # a tree's subtrees in the closure, its own entries
# where ENTRY_FULL's findall stops, up to endpos: the end of its last match that ends there or before
_MATCHES_UP_TO = re.compile(rb"(?:.*?[0-7]{5,6} [^\x00]*\x00.{20})*", re.S)


def sort_entries(
    entries: Iterable[tuple[bytes, bytes, bytes]],
    closure: Collection[bytes],
    unread: Collection[bytes],
    interesting: Collection[bytes],
) -> Sorted:
    """A tree's entries that matter to the walk: subtrees of the closure, unread subtrees and
    interesting blobs (gitlinks are another repository's)."""
    subs: list[tuple[bytes, bytes]] = []
    own: list[Entry] = []
    for mode, name, child in entries:
        if mode == MODE_TREE:
            if child in unread:
                own.append((name, child, K_UNREAD))
            elif child in closure:
                subs.append((name, child))
        elif mode != MODE_GITLINK and child in interesting:
            own.append((name, child, K_BLOB))
    return subs, own


def wanted_entries(data: bytes, wanted: Iterable[bytes]) -> list[tuple[bytes, bytes, bytes]]:
    """The entries of raw tree `data` whose id is one of `wanted`, in order: exactly those of
    `tree_entries(data)`, found by a byte search for each id instead of parsing every entry."""
    hits: list[int] = []
    for oid in set(wanted):
        needle = b"\x00" + oid
        p = data.find(needle)
        while p >= 0:
            hits.append(p)
            p = data.find(needle, p + 1)
    hits.sort()
    return _entries_at(data, hits, 3, 1)


def mode_entries(data: bytes, mode: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """The entries of raw tree `data` with this mode, in order: exactly those of
    `tree_entries(data)`, found where the mode's text occurs instead of parsing every entry."""
    hits: list[int] = []
    needle = mode + b" "
    p = data.find(needle)
    while p >= 0:
        hits.append(p)
        p = data.find(needle, p + 1)
    return _entries_at(data, hits, 1, 0)


def _entries_at(data: bytes, hits: list[int], group: int, back: int) -> list[tuple[bytes, bytes, bytes]]:
    """The entries (matches of ENTRY_FULL's findall) whose `group` starts `back` bytes after a hit
    (ascending positions). Each hit is confirmed by parsing up to it in C, so a name or id that
    merely holds the bytes is never taken for an entry."""
    out: list[tuple[bytes, bytes, bytes]] = []
    at = 0  # the end of a match of ENTRY_FULL's findall (or 0)
    search = ENTRY_FULL.search
    for p in hits:
        if p < at:
            continue  # inside the entry taken last: not an entry's own
        up = _MATCHES_UP_TO.match(data, at, p)  # never None: it matches the empty string
        start = up.end() if up is not None else at
        m = search(data, start)
        if m is None:
            break
        where = m.start(group) - back
        if where == p:
            mode, name, child = m.groups()
            out.append((mode, name, child))
        if where <= p:
            at = m.end()  # taken, or `p` is inside it
        # else `p` lies in bytes no entry covers (a damaged tree): `m` may still be a later hit's
    return out


class Trees:
    """Paths of interesting ids inside the trees that lead to them (parsed on demand, memoized)."""

    def __init__(
        self, repo: pygit2.Repository, closure: set[bytes], interesting: set[bytes], unread: set[bytes]
    ):
        self.repo = repo
        self.closure = closure
        self.interesting = interesting
        self.unread = unread
        self._memo: dict[bytes, tuple[Entry, ...]] = {}
        self.sorted: dict[bytes, Sorted] = {}  # trees of the closure already read and sorted (by the workers)

    def of(self, tree: bytes) -> tuple[Entry, ...]:
        if tree in self.unread:
            return ((b"", tree, K_UNREAD),)
        if tree not in self.closure:
            return ()
        return self._walk(tree)

    def _walk(self, tree: bytes) -> tuple[Entry, ...]:
        """The interesting entries under `tree`, children before parents (iterative: a tree
        thousands of directories deep is walked like any other). Each tree is parsed once into
        its subtrees of the closure and its interesting blobs, so the walk touches only those."""
        memo = self._memo
        got = memo.get(tree)
        if got is not None:
            return got
        closure, unread, interesting = self.closure, self.unread, self.interesting
        parsed: dict[bytes, Sorted | None] = {}
        stack = [tree]
        while stack:
            t = stack[-1]
            if t in memo:
                stack.pop()
                continue
            if t not in parsed:
                pre = self.sorted.get(t)
                if pre is None:
                    try:
                        pre = sort_entries(
                            tree_entries(read_raw(self.repo, t)[1]), closure, unread, interesting
                        )
                    except (pygit2.GitError, KeyError, ValueError, OSError):
                        pre = None
                parsed[t] = pre
                if pre is not None:
                    pending = [c for _n, c in pre[0] if c not in memo and c not in parsed]
                    if pending:
                        stack.extend(pending)
                        continue
            got_t = parsed[t]
            if got_t is None:
                memo[t] = ((b"", t, K_UNREAD),)
                stack.pop()
                continue
            subs, own = got_t
            out = list(own)
            for name, child in subs:
                below = memo.get(child)
                if below is None:  # a tree that names itself (only a hash collision could): unread
                    out.append((name, child, K_UNREAD))
                else:
                    out.extend((name + b"/" + p if p else name, o, k) for p, o, k in below)
            memo[t] = tuple(out)
            stack.pop()
        return memo[tree]


@dataclass(slots=True)
class View:
    """The interesting content of one commit's tree: blobs by path, and dirs that could not be read."""

    blobs: dict[bytes, bytes]
    unread: tuple[bytes, ...]

    def unknown_at(self, path: bytes, unreadable: set[bytes] | frozenset[bytes]) -> bool:
        b = self.blobs.get(path)
        if b is not None and b in unreadable:
            return True
        return any(not d or path == d or path.startswith(d + b"/") for d in self.unread)


EMPTY_VIEW = View({}, ())
