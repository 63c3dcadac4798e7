"""HEAD's first-parent line, and where on it a secret stopped being held (issue 24's `removed`).

The first-parent line is the history of the branch itself (merges seen as one step): the commit
that removed a secret from it is the child, on that line, of the newest commit whose tree still
holds one of the secret's blobs at one of its paths.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from scanner.git.objects import CommitMeta, parse_commit

if TYPE_CHECKING:
    import pygit2

K = TypeVar("K")
_MEMO_COMMITS = 512  # lookups are remembered this many commits, then dropped (memory stays bounded)
_MODES = (b"100644", b"100755", b"120000", b"40000", b"160000")
_TREE = b"40000"


@dataclass(frozen=True, slots=True)
class Held:
    """Where a secret sits: (repository-relative path, blob id) pairs, the committer time of its
    first commit (a commit older than that cannot hold it: the walk stops looking there), and of
    the newest commit the scan saw holding it, its `last_seen` (a commit newer than that cannot
    hold it: the walk reads no tree for it there). None: not known, every commit is looked at."""

    places: frozenset[tuple[bytes, bytes]]
    since: int
    until: int | None = None


def first_parent_line(repo: pygit2.Repository, head: bytes) -> Iterator[tuple[bytes, CommitMeta]]:
    """HEAD, its first parent, that one's first parent, … (an unreadable commit ends the line)."""
    import pygit2

    from scanner.git.repo import read_raw

    seen: set[bytes] = set()
    cur: bytes | None = head
    while cur is not None and cur not in seen:
        seen.add(cur)
        try:
            meta = parse_commit(read_raw(repo, cur)[1])[0]
        except (pygit2.GitError, KeyError, ValueError, OSError, IndexError):
            return
        yield cur, meta
        cur = meta.parents[0] if meta.parents else None


def removals(
    repo: pygit2.Repository, head: bytes, wanted: Mapping[K, Held], slack: int = 86400
) -> dict[K, tuple[bytes, CommitMeta]]:
    """For each key, the first commit on HEAD's first-parent line that no longer holds any of its
    places, after the newest one that does; absent when HEAD holds it or no commit of the line
    did (it was only ever on another branch). One walk from HEAD back for every key; a key stops
    being looked for at a commit `slack` seconds older than its `since` (committer clocks skew),
    and is not looked for in commits `slack` seconds newer than its `until`: on git/git the two
    removed keys were last held years before HEAD, and reading the trees of the commits since
    then was a third of the walk (6,870 commits, 1.75 s)."""
    pending = dict(wanted)
    by_path = {k: _by_path(h.places) for k, h in pending.items()}
    out: dict[K, tuple[bytes, CommitMeta]] = {}
    child: tuple[bytes, CommitMeta] | None = None
    memo: dict[tuple[bytes, bytes], bytes | None] = {}
    for n, (oid, meta) in enumerate(first_parent_line(repo, head)):
        if not pending:
            break
        if n % _MEMO_COMMITS == 0:
            memo.clear()
        raw: dict[bytes, bytes | None] = {}  # the trees read for this commit, each read once
        for key in list(pending):
            until = pending[key].until
            if until is not None and meta.committer.time > until + slack:
                continue  # newer than any commit that holds it: no tree read
            if any(_blob_at(repo, meta.tree, p, memo, raw) in blobs for p, blobs in by_path[key].items()):
                if child is not None:
                    out[key] = child
                del pending[key]
            elif meta.committer.time < pending[key].since - slack:
                del pending[key]
        child = (oid, meta)
    return out


def _by_path(places: frozenset[tuple[bytes, bytes]]) -> dict[bytes, frozenset[bytes]]:
    got: dict[bytes, set[bytes]] = {}
    for path, blob in places:
        got.setdefault(path, set()).add(blob)
    return {p: frozenset(b) for p, b in got.items()}


def _blob_at(
    repo: pygit2.Repository,
    tree: bytes,
    path: bytes,
    memo: dict[tuple[bytes, bytes], bytes | None],
    raw: dict[bytes, bytes | None],
) -> bytes | None:
    """The blob at `path` in `tree` (None: absent, not a file, or unreadable). Consecutive commits
    of a line share most subtrees, so the answer is remembered per (subtree, rest of the path)."""
    import pygit2

    from scanner.git.repo import read_raw

    got = memo.get((tree, path), memo)
    if got is not memo:
        return got  # type: ignore[return-value]
    name, sep, rest = path.partition(b"/")
    if tree not in raw:
        try:
            raw[tree] = read_raw(repo, tree)[1]
        except (pygit2.GitError, KeyError, ValueError, OSError):
            raw[tree] = None
    data = raw[tree]
    entry = _entry(data, name) if data is not None else None
    found: bytes | None = None
    if entry is not None:
        mode, oid = entry
        if sep and mode == _TREE:
            found = _blob_at(repo, oid, rest, memo, raw)
        elif not sep and mode != _TREE and mode != b"160000":
            found = oid
    memo[(tree, path)] = found
    return found


def _entry(data: bytes, name: bytes) -> tuple[bytes, bytes] | None:
    """(mode, id) of `name` in a raw tree, found by searching for its ` name NUL` rather than
    parsing every entry (a big root tree is read once per commit of the line): a match counts
    only after a known mode at an entry's start — the tree's first byte, or 21 bytes after the
    NUL of the entry before (the 20-byte id between them)."""
    needle = b" " + name + b"\0"
    at = data.find(needle)
    while at != -1:
        for mode in _MODES:
            start = at - len(mode)
            if (
                start >= 0
                and data[start:at] == mode
                and (start == 0 or (start >= 21 and data[start - 21] == 0))
            ):
                end = at + len(needle)
                return mode, data[end : end + 20]
        at = data.find(needle, at + 1)
    return None
