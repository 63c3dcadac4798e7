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
        return self._walk(tree, 0)

    def _walk(self, tree: bytes, depth: int) -> tuple[Entry, ...]:
        got = self._memo.get(tree)
        if got is not None:
            return got
        out: list[Entry] = []
        try:
            _, data = read_raw(self.repo, tree)
        except (pygit2.GitError, KeyError, ValueError, OSError):
            data = None
        if data is None:
            res: tuple[Entry, ...] = ((b"", tree, K_UNREAD),)
            self._memo[tree] = res
            return res
        for mode, name, child in tree_entries(data):
            if mode == MODE_TREE:
                if child in self.unread:
                    out.append((name, child, K_UNREAD))
                elif child in self.closure and depth < 256:
                    for path, oid, kind in self._walk(child, depth + 1):
                        out.append((name + b"/" + path if path else name, oid, kind))
            elif mode != MODE_GITLINK and child in self.interesting:
                out.append((name, child, K_BLOB))
        res = tuple(out)
        self._memo[tree] = res
        return res


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
