"""`first_seen` across lines of history (ARCHITECTURE.md §4 "Introduces", issue 19 item 12): the
earliest introducing commit by committer time, except that an introducing commit that is an
ancestor of another always comes first; generation numbers only break ties. Engine and oracle
are compared on every repository (the `swept` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pygit2

from tests.oracle import Expect, digest
from tests.repo_builder import RepoBuilder, env_line, make_key

Swept = Callable[..., dict[str, Expect]]


def _commit_at(b: RepoBuilder, tick: int, **kw: object) -> pygit2.Oid:
    """A commit whose author and committer time is BASE_TIME + 60 * `tick`."""
    saved = b.tick
    b.tick = tick - 1
    try:
        return b.commit(**kw)  # type: ignore[arg-type]
    finally:
        b.tick = max(saved, tick)


def test_an_orphan_pull_ref_does_not_win_over_an_older_main_line_commit(tmp_path: Path, swept: Swept) -> None:
    """A pull-request ref with its own history: its root commit introduces the key later than
    the main line did, but has a smaller generation number (1 against the main line's 12)."""
    b = RepoBuilder(tmp_path / "r")
    for i in range(10):
        b.commit({"README": f"v{i}\n".encode()})
    main_intro = b.commit({"conf/k.env": env_line(90)})
    b.commit({"README": b"after\n"})
    pr_root = b.commit({"conf/k.env": env_line(90), "pr.txt": b"pr\n"}, ref="refs/pull/1455/head", parents=[])
    b.commit({"pr.txt": b"pr 2\n"}, ref="refs/pull/1455/head")
    assert b.repo[pr_root].commit_time > b.repo[main_intro].commit_time
    e = swept(tmp_path / "r")[digest(make_key(90))]
    assert e.first_seen == str(main_intro)
    # the same blob at the same path: one location, with the older commit
    assert {(p, c) for _s, p, _l, _c, c, _b in e.locations} == {("conf/k.env", str(main_intro))}


def test_a_later_pull_line_at_another_path_does_not_win(tmp_path: Path, swept: Swept) -> None:
    b = RepoBuilder(tmp_path / "r")
    for i in range(6):
        b.commit({"README": f"v{i}\n".encode()})
    main_intro = b.commit({"a.env": env_line(91)})
    pr_root = b.commit({"b.env": b"# pr\n" + env_line(91)}, ref="refs/pull/7/head", parents=[])
    e = swept(tmp_path / "r")[digest(make_key(91))]
    assert e.first_seen == str(main_intro)
    assert {(p, c) for _s, p, _l, _c, c, _b in e.locations} == {
        ("a.env", str(main_intro)),
        ("b.env", str(pr_root)),
    }


def test_an_unrelated_line_that_is_older_wins(tmp_path: Path, swept: Swept) -> None:
    """The other way round: the pull line's introduction is the older one by time."""
    b = RepoBuilder(tmp_path / "r")
    pr_root = b.commit({"k.env": env_line(92)}, ref="refs/pull/3/head", parents=[])
    for i in range(5):
        b.commit({"README": f"v{i}\n".encode()})
    b.commit({"k.env": env_line(92)})
    e = swept(tmp_path / "r")[digest(make_key(92))]
    assert e.first_seen == str(pr_root)


def test_clock_skew_along_one_line(tmp_path: Path, swept: Swept) -> None:
    """A key added, deleted, then added again by a commit whose clock was behind: the first
    introduction is its ancestor and comes first, though the later one has the older time."""
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n"})
    first = _commit_at(b, 50, changes={"k.env": env_line(93)})
    b.commit({"k.env": None})
    again = _commit_at(b, 10, changes={"k.env": env_line(93)})  # committed "before" `first`
    b.commit({"README": b"later\n"})
    assert b.repo[again].commit_time < b.repo[first].commit_time
    e = swept(tmp_path / "r")[digest(make_key(93))]
    assert e.first_seen == str(first)


def test_clock_skew_and_an_unrelated_line(tmp_path: Path, swept: Swept) -> None:
    """Main line: an introduction, then a re-introduction with a skewed (very old) clock; a pull
    line's root, unrelated, sits in between by time. The re-introduction never comes first (its
    ancestor introduced the key); among the rest, time decides."""
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n"})
    first = _commit_at(b, 40, changes={"k.env": env_line(94)})
    b.commit({"k.env": None})
    skewed = _commit_at(b, 5, changes={"k.env": env_line(94)})
    pr_root = _commit_at(b, 20, changes={"p.env": env_line(94)}, ref="refs/pull/9/head", parents=[])
    times = [b.repo[c].commit_time for c in (skewed, pr_root, first)]
    assert times == sorted(times)
    e = swept(tmp_path / "r")[digest(make_key(94))]
    assert e.first_seen == str(pr_root)
