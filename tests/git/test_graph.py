"""The one commit-graph walk (scanner/git/graph.py) that the sweep's reachability, the range scan's
full walk and the path search share."""

from __future__ import annotations

import pytest

from scanner.git.graph import walk

GRAPH = {b"d": (b"b", b"c"), b"c": (b"a",), b"b": (b"a",), b"a": (), b"e": (b"d", b"x")}


def test_each_commit_once_depth_first_in_stack_order() -> None:
    asked: list[bytes] = []

    def parents(c: bytes) -> tuple[bytes, ...]:
        asked.append(c)
        return tuple(p for p in GRAPH[c] if p in GRAPH)

    assert list(walk([b"e"], parents)) == [b"e", b"d", b"c", b"a", b"b"]
    assert asked == [b"e", b"d", b"c", b"a", b"b"]  # once each, never for a commit seen before


def test_parents_are_asked_after_the_commit_was_handled() -> None:
    handled: list[bytes] = []

    def parents(c: bytes) -> tuple[bytes, ...]:
        assert handled[-1] == c
        return GRAPH.get(c, ()) if c != b"d" else ()  # d: a shallow boundary; x: absent

    for c in walk([b"d", b"e"], parents):
        handled.append(c)  # noqa: PERF402 - parents() looks at it while the walk runs
    assert handled == [b"e", b"x", b"d"]  # nothing past the boundary


def test_a_caller_may_stop_the_walk_by_raising() -> None:
    def parents(c: bytes) -> tuple[bytes, ...]:
        if c == b"c":
            raise LookupError(c)
        return GRAPH[c]

    with pytest.raises(LookupError):
        list(walk([b"d"], parents))
