"""The trees that lead to interesting ids (matched or unreadable blobs), walked on demand.

`Trees` parses only the trees of the upward closure (the trees that hold an interesting id at some
depth), so a commit's interesting content costs a few tree reads, not a walk of the whole tree.
"""

from __future__ import annotations

from dataclasses import dataclass

import pygit2

from scanner.git.objects import MODE_GITLINK, MODE_TREE, tree_entries
from scanner.git.repo import read_raw

K_BLOB, K_UNREAD = 0, 1
Entry = tuple[bytes, bytes, int]  # (path, id, kind)


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
        parsed: dict[bytes, tuple[list[tuple[bytes, bytes]], list[Entry]] | None] = {}
        stack = [tree]
        while stack:
            t = stack[-1]
            if t in memo:
                stack.pop()
                continue
            if t not in parsed:
                try:
                    entries = tree_entries(read_raw(self.repo, t)[1])
                except (pygit2.GitError, KeyError, ValueError, OSError):
                    parsed[t] = None
                else:
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
                    parsed[t] = (subs, own)
                    pending = [c for _n, c in subs if c not in memo and c not in parsed]
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
