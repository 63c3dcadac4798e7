"""The staged scan's fast path (the pre-commit hook): the index's cache-tree tells which directories
still equal HEAD, so a small change reads only the trees on its own path — and never misses what
is staged. The index is written by git's porcelain (`git add`), which is what writes the
extension in a user's repository."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pygit2
import pytest

from scanner.config import Mode, ScanConfig
from scanner.git.index import read_index_tree
from scanner.git.trees import TreeMemo, head_tree, unchanged_dirs
from scanner.pipeline import scan
from tests.keys import make_key, matcher, rules

ENV = {
    "GIT_AUTHOR_NAME": "Ada Builder",
    "GIT_AUTHOR_EMAIL": "ada@example.invalid",
    "GIT_COMMITTER_NAME": "Ada Builder",
    "GIT_COMMITTER_EMAIL": "ada@example.invalid",
    "GIT_AUTHOR_DATE": "2020-09-13T12:00:00Z",
    "GIT_COMMITTER_DATE": "2020-09-13T12:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | ENV | {"HOME": str(repo)}
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "r"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    for path in ("a/one.txt", "a/deep/two.txt", "b/c/three.txt", "b/four.txt", "top.txt"):
        (r / path).parent.mkdir(parents=True, exist_ok=True)
        (r / path).write_text(f"{path}\n")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "initial")
    return r


def state(r: Path) -> tuple[set[bytes], TreeMemo]:
    repo = pygit2.Repository(str(r))
    _, cache = read_index_tree(repo)
    tree = head_tree(repo)
    assert tree is not None and cache, "git wrote no cache-tree"
    memo: TreeMemo = {}
    return unchanged_dirs(repo, tree, cache, memo), memo


def staged(r: Path) -> list[tuple[str, str]]:
    report = scan(ScanConfig(target=r, mode=Mode.STAGED, jobs=1), rules(), matcher("python"))
    return sorted((f.rule_id, loc.path) for f in report.findings for loc in f.locations)


def test_cache_tree_matches_git(repo: Path) -> None:
    """The parsed extension agrees with git's own trees, directory by directory."""
    _, cache = read_index_tree(pygit2.Repository(str(repo)))
    for d in ("", "a", "a/deep", "b", "b/c"):
        want = git(repo, "rev-parse", f"HEAD:{d}" if d else "HEAD^{tree}").strip()
        got = cache[d.encode()]
        assert got is not None and got.hex() == want, d


def test_nothing_staged_reads_one_tree(repo: Path) -> None:
    same, memo = state(repo)
    assert same == {b""} and memo == {}
    assert staged(repo) == []


def test_a_staged_key_is_found_and_only_its_path_is_read(repo: Path) -> None:
    key = make_key(seed=71)
    (repo / "b" / "c" / "leak.env").write_text(f"OPENAI_API_KEY={key}\n")
    git(repo, "add", "b/c/leak.env")
    same, memo = state(repo)
    assert same == {b"a"}  # git invalidated "", b and b/c; a is HEAD's, a/deep need not be looked at
    assert len(memo) == 3, "only HEAD's root, b and b/c are read"
    assert staged(repo) == [("openai.project-key", "b/c/leak.env")]


def test_a_key_staged_next_to_unchanged_directories(repo: Path) -> None:
    key = make_key(seed=72)
    (repo / "a" / "deep" / "two.txt").write_text(f"OPENAI_API_KEY={key}\n")
    (repo / "top.txt").write_text("edited\n")
    git(repo, "add", "a/deep/two.txt", "top.txt")
    same, _ = state(repo)
    assert b"a/deep" not in same and b"a" not in same and b"b" in same
    assert staged(repo) == [("openai.project-key", "a/deep/two.txt")]


def test_no_cache_tree_falls_back_to_every_entry(repo: Path) -> None:
    key = make_key(seed=73)
    (repo / "b" / "four.txt").write_text(f"OPENAI_API_KEY={key}\n")
    git(repo, "add", "b/four.txt")
    index = repo / ".git" / "index"
    data = index.read_bytes()
    at = data.find(b"TREE")
    assert at > 0
    index.write_bytes(data[:at] + b"XXXX" + data[at + 4 :])  # an unknown extension instead
    _, cache = read_index_tree(pygit2.Repository(str(repo)))
    assert cache == {}
    assert staged(repo) == [("openai.project-key", "b/four.txt")]
