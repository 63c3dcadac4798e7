"""Defects of issue 9, each with the test that failed before its fix: damaged objects never hang
a scan, `--no-history` reads the index, and a stall becomes exit 3 instead of a hang."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pygit2
import pytest

from scanner.config import Mode
from scanner.model import Report
from tests.oracle import digest
from tests.processes import children
from tests.repo_builder import RepoBuilder, env_line, make_key

KEYSWEEP = [sys.executable, "-m", "scanner"]
MODES = [[], ["--no-history"], ["--range", "HEAD~1..HEAD"], ["--staged"]]


def _run(args: list[str], cwd: Path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent), **env}
    return subprocess.run(
        [*KEYSWEEP, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full
    )


def _loose_path(root: Path, oid: pygit2.Oid) -> Path:
    return root / ".git" / "objects" / str(oid)[:2] / str(oid)[2:]


@pytest.mark.parametrize("cut", [2, 10, 60])
@pytest.mark.parametrize("mode", MODES, ids=["history", "tree", "range", "staged"])
def test_truncated_head_commit_never_hangs_and_never_passes(
    tmp_path: Path, mode: list[str], cut: int
) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"a.env": env_line(70)})
    head = b.commit({"b.txt": b"two\n", "c.env": env_line(71)})
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    loose = _loose_path(tmp_path / "r", head)
    loose.chmod(0o644)
    loose.write_bytes(loose.read_bytes()[:cut])
    got = _run(["scan", ".", *mode], tmp_path / "r")
    assert got.returncode in (1, 3), (got.returncode, got.stderr)
    assert "Traceback" not in got.stderr
    if got.returncode == 3:
        assert str(head) in got.stderr  # it names the object it could not read


def test_no_history_reads_the_index(tmp_path: Path, scan: object) -> None:
    from collections.abc import Callable

    run: Callable[..., Report] = scan  # type: ignore[assignment]
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n"})
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    (tmp_path / "r" / "staged.env").write_bytes(env_line(72))
    b.repo.index.add("staged.env")
    b.repo.index.write()
    report = run(tmp_path / "r", Mode.TREE)
    assert {f.secret_sha256 for f in report.findings} == {digest(make_key(72))}
    assert report.findings[0].locations[0].source.value == "staged"

    # no commit at all: HEAD is unborn
    u = RepoBuilder(tmp_path / "u")
    (tmp_path / "u" / "k.env").write_bytes(env_line(73))
    u.repo.index.add("k.env")
    u.repo.index.write()
    report = run(tmp_path / "u", Mode.TREE)
    assert {f.secret_sha256 for f in report.findings} == {digest(make_key(73))}
    assert report.stats.complete


def test_the_watchdog_turns_a_stall_into_exit_3(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(3 << 30)  # sparse: seconds of scanning, no disk
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "KEYSWEEP_STALL_SECONDS": "2",
    }
    proc = subprocess.Popen(
        [*KEYSWEEP, "scan", str(tmp_path), "--jobs", "1"], stderr=subprocess.PIPE, text=True, env=env
    )
    child = None
    deadline = time.monotonic() + 20
    while child is None and time.monotonic() < deadline and proc.poll() is None:
        kids = children(proc.pid)
        child = kids[0] if kids else None
        time.sleep(0.01)
    assert child is not None, "the command runs its scan in a supervised child"
    os.kill(child, signal.SIGSTOP)  # a real stall: the scan makes no progress at all
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert "no progress for 2 s" in err
    assert time.monotonic() - t0 < 30


def _deep_repo(root: Path, depth: int) -> tuple[RepoBuilder, str]:
    """A key at the bottom of a tree `depth` directories deep, added by the second commit."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 4 * depth))  # the test's own tree builder recurses
    try:
        b = RepoBuilder(root)
        b.commit({"README": b"hi\n"})
        path = "/".join(["d"] * depth) + "/k.env"
        b.commit({path: env_line(74)})
    finally:
        sys.setrecursionlimit(old)
    return b, path


@pytest.mark.parametrize("mode", [Mode.HISTORY, Mode.TREE, Mode.RANGE])
def test_a_tree_a_thousand_directories_deep(tmp_path: Path, scan: object, mode: Mode) -> None:
    from collections.abc import Callable

    run: Callable[..., Report] = scan  # type: ignore[assignment]
    _, path = _deep_repo(tmp_path / "r", 1000)
    report = run(tmp_path / "r", mode, "HEAD~1..HEAD" if mode is Mode.RANGE else None)
    assert report.stats.complete, report.stats.skipped_examples
    (f,) = report.findings
    assert f.secret_sha256 == digest(make_key(74))
    assert f.locations[0].path == path


def test_a_working_tree_150_directories_deep_is_complete(tmp_path: Path, scan: object) -> None:
    from collections.abc import Callable

    run: Callable[..., Report] = scan  # type: ignore[assignment]
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n", "same.env": env_line(75)})
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    deep = tmp_path / "r" / "/".join(["d"] * 150)
    deep.mkdir(parents=True)
    (deep / "k.env").write_bytes(env_line(76))
    (tmp_path / "r" / ".gitignore").write_bytes(b"ignored.txt\n")
    (tmp_path / "r" / "ignored.txt").write_bytes(env_line(77))  # ignored, not .env: never read
    report = run(tmp_path / "r", Mode.TREE)
    assert report.stats.complete, report.stats.skipped_examples
    by = {f.secret_sha256: f for f in report.findings}
    assert set(by) == {digest(make_key(75)), digest(make_key(76))}
    assert [loc.source.value for loc in by[digest(make_key(76))].locations] == ["worktree"]
    assert [loc.source.value for loc in by[digest(make_key(75))].locations] == ["history"]  # unchanged file


def test_an_empty_head_commit_object_is_corrupt_not_beyond_the_clone(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"a.env": env_line(78)})
    head = b.commit({"b.txt": b"two\n"})
    loose = _loose_path(tmp_path / "r", head)
    loose.chmod(0o644)
    loose.write_bytes(b"")
    got = _run(["scan", ".", "--range", "HEAD~1..HEAD"], tmp_path / "r")
    assert got.returncode == 3, got.stderr
    assert "corrupt-object" in got.stderr and str(head) in got.stderr
    assert "beyond" not in got.stderr
