"""The engine agrees with the oracle on randomly generated histories (seeded, so failures replay)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pygit2
import pytest

from scanner.config import Mode
from scanner.detect.engine import Matcher
from scanner.model import Report
from tests.conftest import assert_agrees
from tests.oracle import Expect, Oracle, normalize
from tests.repo_builder import RepoBuilder, env_line, make_key

PATHS = ["a.env", "b/c.env", "b/d/e.py", "f.txt", "g/h.yml", "g/i/j.env"]
KEYS = [70, 71, 72, 73]


def _content(r: random.Random) -> bytes:
    lines = [b"x = 1\n"] * r.randint(0, 3)
    if r.random() < 0.6:
        lines.insert(r.randint(0, len(lines)), env_line(r.choice(KEYS)))
    if r.random() < 0.2:
        lines.append(env_line(r.choice(KEYS), "OTHER"))
    return b"".join(lines)


def random_history(root: Path, seed: int) -> RepoBuilder:
    r = random.Random(seed)
    b = RepoBuilder(root)
    branches = ["refs/heads/main"]
    tips = {"refs/heads/main": b.commit({"README": b"start\n"})}
    for i in range(r.randint(8, 22)):
        ref = r.choice(branches)
        op = r.random()
        if op < 0.15 and len(branches) < 4:
            new = f"refs/heads/b{i}"
            tips[new] = b.commit({r.choice(PATHS): _content(r)}, ref=new, parents=[tips[ref]])
            branches.append(new)
            continue
        if op < 0.3 and len(branches) > 1:
            other = r.choice([x for x in branches if x != ref])
            ch: dict[str | bytes, bytes | tuple[bytes, int] | None] = {
                p: v for p, v in sorted(b.files[tips[other]].items()) if r.random() < 0.5
            }
            if r.random() < 0.5:  # sometimes an evil merge
                ch[r.choice(PATHS)] = _content(r)
            tips[ref] = b.commit(ch, ref=ref, parents=[tips[ref], tips[other]], message="merge")
            continue
        ch = {}
        for _ in range(r.randint(1, 3)):  # edits, deletions and renames
            p = r.choice(PATHS)
            roll = r.random()
            if roll < 0.25:
                ch[p] = None
            elif roll < 0.35 and b.files[tips[ref]]:
                src = r.choice(sorted(b.files[tips[ref]]))
                ch[src] = None
                ch[p] = b.files[tips[ref]][src][0]
            else:
                ch[p] = _content(r)
        msg = f"c{i}" + (f" {make_key(r.choice(KEYS))}" if r.random() < 0.1 else "")
        tips[ref] = b.commit(ch, ref=ref, message=msg)
        if r.random() < 0.1:
            b.tag(
                f"t{i}",
                tips[ref],
                message="tag" + (f" {make_key(r.choice(KEYS))}" if r.random() < 0.5 else ""),
            )
        if r.random() < 0.08:  # an amended commit: the old one becomes unreachable
            parent = b.repo[tips[ref]].parent_ids[0] if b.repo[tips[ref]].parent_ids else None
            if parent is not None:
                b.repo.references.create(ref, parent, force=True)
                tips[ref] = parent
    if r.random() < 0.3 and len(branches) > 1:
        b.delete_ref(branches[-1])
    return b


@pytest.mark.parametrize("seed", range(30))
def test_random_history_full_sweep(
    tmp_path: Path, seed: int, swept: Callable[..., dict[str, Expect]]
) -> None:
    random_history(tmp_path / "r", seed)
    swept(tmp_path / "r")


@pytest.mark.parametrize("seed", range(30, 42))
def test_random_history_range(
    tmp_path: Path, seed: int, scan: Callable[..., Report], matcher: Matcher
) -> None:
    b = random_history(tmp_path / "r", seed)
    commits = sorted({str(c) for c in b.files})
    r = random.Random(seed)
    head = str(b.repo.head.target)
    base = r.choice(commits)
    report = scan(tmp_path / "r", Mode.RANGE, f"{base}..{head}")
    want = Oracle(tmp_path / "r", matcher).range([head], [base])
    assert_agrees(normalize(report), want)


def test_generator_makes_interesting_histories(tmp_path: Path) -> None:
    """The generated histories do hold merges, deletions and keys (so the agreement above means something)."""
    merges = keys = 0
    for seed in range(30):
        b = random_history(tmp_path / str(seed), seed)
        merges += sum(1 for c in b.files if len(b.repo[c].parent_ids) > 1)
        planted = [make_key(k).encode() for k in KEYS]
        keys += sum(
            1 for files in b.files.values() for data, _ in files.values() if any(k in data for k in planted)
        )
        assert isinstance(b.repo, pygit2.Repository)
    assert merges >= 10 and keys >= 30


@pytest.mark.parametrize("seed", range(42, 50))
def test_random_history_range_with_skewed_clocks(
    tmp_path: Path, seed: int, scan: Callable[..., Report], matcher: Matcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Committer times that repeat or go backwards: the newest-first range walk must stay exact."""
    from tests import repo_builder

    clock = random.Random(seed)

    def skewed(self: repo_builder.RepoBuilder) -> pygit2.Signature:
        self.tick += 1
        return pygit2.Signature(
            "dev",
            "dev@example.invalid",
            1_600_000_000 + clock.choice([0, 60, 120]) * self.tick // 2 - clock.randint(0, 400),
            0,
        )

    monkeypatch.setattr(repo_builder.RepoBuilder, "_sig", skewed)
    b = random_history(tmp_path / "r", seed)
    commits = sorted({str(c) for c in b.files})
    r = random.Random(seed)
    head = str(b.repo.head.target)
    for base in r.sample(commits, 3):
        report = scan(tmp_path / "r", Mode.RANGE, f"{base}..{head}")
        want = Oracle(tmp_path / "r", matcher).range([head], [base])
        assert_agrees(normalize(report), want)
