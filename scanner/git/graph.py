"""The commit graph: commits read once and memoized, generation numbers, and the range walk.

The range walk is keysweep's own (git's `limit_list`: newest first by committer time) rather than
pygit2's `Walker` with `hide`: every commit is read through `read_raw`, which never hands a damaged
loose object to libgit2 (libgit2 1.9 hangs on a truncated one), and the walk tells a shallow
boundary or a missing commit inside the range (exit 3) from the range's own edge.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator, Sequence

import pygit2

from scanner.errors import ScanError
from scanner.git.objects import CommitMeta, parse_commit
from scanner.git.refs import FETCH_HINT
from scanner.git.repo import read_raw


def walk(starts: Iterable[bytes], parents: Callable[[bytes], Iterable[bytes]]) -> Iterator[bytes]:
    """Every commit reachable from `starts`, each once, depth first (the one commit-graph walk of
    the full sweep's reachability, the range scan's full walk and the path search). `parents(c)`
    is asked after `c` was handled and says which parents to follow: none past a shallow boundary
    or an unreadable commit; it may report or raise for the caller."""
    seen: set[bytes] = set()
    stack = list(starts)
    while stack:
        c = stack.pop()
        if c in seen:
            continue
        seen.add(c)
        yield c
        stack.extend(parents(c))


def generations(commits: dict[bytes, CommitMeta]) -> dict[bytes, int]:
    """Generation numbers: 1 for a root (or a commit whose parents are absent), else 1 + max of parents."""
    gen: dict[bytes, int] = {}
    for start in commits:
        if start in gen:
            continue
        stack = [start]
        while stack:
            c = stack[-1]
            if c in gen:
                stack.pop()
                continue
            pending = [p for p in commits[c].parents if p in commits and p not in gen]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            gen[c] = 1 + max((gen[p] for p in commits[c].parents if p in commits), default=0)
    return gen


class Ancestry:
    """Which of a few commits comes first (ARCHITECTURE.md §4 "Introduces"): the earliest by
    committer time, except that one that is an ancestor of another always comes first (clock
    skew along one line). Generation numbers order commits along one line only, so an
    unrelated line (a pull request's separate history) is compared by time. An ancestor check
    walks down from the younger commit and stops at the older one's generation number, and only
    the candidates of one secret are compared, so it stays cheap on a long history."""

    def __init__(self, parents: Callable[[bytes], Sequence[bytes]], gen: Callable[[bytes], int]) -> None:
        self.parents = parents  # the parents that were read (none past a shallow boundary)
        self.gen = gen
        self._memo: dict[tuple[bytes, frozenset[bytes]], bool] = {}

    def reaches(self, c: bytes, targets: frozenset[bytes]) -> bool:
        """Whether one of `targets` is a proper ancestor of `c`."""
        memo_key = (c, targets)
        got = self._memo.get(memo_key)
        if got is not None:
            return got
        gen, parents = self.gen, self.parents
        floor = min(gen(t) for t in targets)
        seen: set[bytes] = set()
        stack = list(parents(c))
        found = False
        while stack:
            x = stack.pop()
            if x in seen:
                continue
            seen.add(x)
            if x in targets:
                found = True
                break
            if gen(x) > floor:  # below the floor no ancestor can be a target
                stack.extend(parents(x))
        self._memo[memo_key] = found
        return found

    def first(
        self,
        candidates: Iterable[bytes],
        key: Callable[[bytes], tuple[int, int, str]],
        commits: Container[bytes],
    ) -> bytes:
        """The first of `candidates` by `key` (time, generation, id) among those that have no
        other candidate as an ancestor; only members of `commits` can be ancestors (a tag
        message's candidate follows its target and precedes nothing)."""
        order = sorted(set(candidates), key=key)
        for c in order:
            g = self.gen(c)
            lower = frozenset(d for d in order if d != c and d in commits and self.gen(d) < g)
            if not lower or not self.reaches(c, lower):
                return c
        return order[0]  # unreachable: the earliest-generation candidate has no candidate below it


class CommitCache:
    """Commits read on demand, each once (None: absent or unreadable)."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo
        self.cache: dict[bytes, tuple[CommitMeta, bytes] | None] = {}
        self.corrupt: set[bytes] = set()  # present but unreadable (the rest of the Nones: absent)

    def get(self, c: bytes) -> tuple[CommitMeta, bytes] | None:
        if c not in self.cache:
            try:
                _, data = read_raw(self.repo, c)
                self.cache[c] = parse_commit(data)
            except KeyError:
                self.cache[c] = None
            except (pygit2.GitError, ValueError, OSError, IndexError):
                self.cache[c] = None
                self.corrupt.add(c)
        return self.cache[c]

    def unreadable(self, c: bytes) -> ScanError:
        """The error for a commit of a range that could not be read: damaged, or absent."""
        if c in self.corrupt:
            return ScanError(f"commit {c.hex()} of the range is damaged (corrupt-object) and cannot be read")
        return ScanError(f"commit {c.hex()} of the range is missing from this clone; {FETCH_HINT}")


def range_walk(
    commits: CommitCache, inc: list[bytes], exc: list[bytes], shallow: frozenset[bytes]
) -> dict[bytes, tuple[CommitMeta, bytes]] | None:
    """Commits reachable from `inc` and not from `exc`, walked newest first by committer time
    (git's limit_list), so that a small range reads a few commits, not the whole history. None
    when a parent is newer than its child on the way (then only a full walk is exact)."""
    import heapq

    uninteresting: set[bytes] = set()
    queued: set[bytes] = set()
    done: set[bytes] = set()
    heap: list[tuple[int, int, bytes]] = []
    counter = 0

    def push(c: bytes, un: bool) -> None:
        nonlocal counter
        if un:
            uninteresting.add(c)
        if c in queued:
            return
        queued.add(c)
        got = commits.get(c)
        counter += 1
        heapq.heappush(heap, (-(got[0].committer.time if got else -(1 << 62)), counter, c))

    for c in exc:
        push(c, True)
    for c in inc:
        push(c, False)
    out: dict[bytes, tuple[CommitMeta, bytes]] = {}
    pops = 0
    while heap:
        pops += 1
        if pops % 8 == 0 and all(c in uninteresting for _, _, c in heap):
            break
        _, _, c = heapq.heappop(heap)
        done.add(c)
        un = c in uninteresting
        got = commits.get(c)
        if got is None:
            if un:
                continue
            raise commits.unreadable(c)
        if c in shallow:
            if un:
                continue
            raise ScanError(
                f"the range reaches the shallow clone's boundary at {c.hex()} before leaving it; {FETCH_HINT}"
            )
        meta = got[0]
        if not un:
            out[c] = got
        for p in meta.parents:
            pg = commits.get(p)
            if pg is not None and pg[0].committer.time > meta.committer.time:
                return None
            if un and p in done and p not in uninteresting:
                return None  # processed as part of the range before this news arrived
            push(p, un)
    return {c: g for c, g in out.items() if c not in uninteresting}
