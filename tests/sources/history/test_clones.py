"""Clones that lack objects or belong to someone else: partial, shallow, alternates, another uid.

The git CLI is used here only to make partial and shallow clones (file://), as libgit2 cannot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pygit2
import pytest

from scanner.model import Report
from tests.oracle import Expect, digest
from tests.repo_builder import RepoBuilder, env_line, make_key

Swept = Callable[..., dict[str, Expect]]
Scan = Callable[..., Report]
GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="needs the git CLI to make partial/shallow clones")


def _git(*args: str) -> None:
    assert GIT is not None
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent", "GIT_TERMINAL_PROMPT": "0"}
    subprocess.run([GIT, *args], check=True, capture_output=True, env=env, timeout=60)


def _history(root: Path) -> tuple[RepoBuilder, list[pygit2.Oid]]:
    """Ten commits: a key added early and kept (edited around), one added at commit 8."""
    b = RepoBuilder(root)
    cs = [b.commit({"README": b"v0\n", "conf/app.env": b"# v0\n" + env_line(60)})]
    for i in range(1, 10):
        ch: dict[str | bytes, bytes | None] = {"README": f"v{i}\n".encode()}
        if i == 8:
            ch["late.env"] = env_line(61)
        if i in (3, 6):
            ch["conf/app.env"] = f"# v{i}\n".encode() + env_line(60)
        cs.append(b.commit(ch))
    return b, cs


@needs_git
def test_partial_clone(tmp_path: Path, swept: Swept, scan: Scan) -> None:
    _b, cs = _history(tmp_path / "src")
    _git("-C", str(tmp_path / "src"), "config", "uploadpack.allowFilter", "true")
    _git("clone", "-q", "--filter=blob:none", f"file://{tmp_path / 'src'}", str(tmp_path / "part"))
    exp = swept(tmp_path / "part")
    # conf/app.env's older blobs were never fetched: whether commit 6 introduced the key cannot be told
    kept = exp[digest(make_key(60))]
    assert kept.first_seen is None and kept.first_seen_truncated is True
    assert kept.present_at_head is True and kept.last_seen == str(cs[-1])
    late = exp[digest(make_key(61))]
    assert late.first_seen == str(cs[8]) and late.first_seen_truncated is False
    assert late.present_at_refs == ("refs/heads/main", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    report = scan(tmp_path / "part")
    assert report.status == "incomplete" and report.stats.complete is False
    assert report.stats.skipped["missing-object"] >= 2


@needs_git
@pytest.mark.parametrize("depth", [1, 5])
def test_shallow_clone(tmp_path: Path, depth: int, swept: Swept, scan: Scan) -> None:
    _b, cs = _history(tmp_path / "src")
    _git("clone", "-q", f"--depth={depth}", f"file://{tmp_path / 'src'}", str(tmp_path / "sh"))
    assert pygit2.Repository(str(tmp_path / "sh")).is_shallow
    exp = swept(tmp_path / "sh")
    kept = exp[digest(make_key(60))]
    assert kept.first_seen is None and kept.first_seen_truncated is True  # added before the boundary
    assert kept.present_at_head is True and kept.last_seen == str(cs[-1])
    late = exp[digest(make_key(61))]
    if depth == 1:
        assert late.first_seen is None and late.first_seen_truncated is True
    else:
        assert late.first_seen == str(cs[8]) and not late.first_seen_truncated
    assert {loc[1] for loc in late.locations} == {"late.env"}
    report = scan(tmp_path / "sh")
    assert report.status == "incomplete" and report.stats.skipped["shallow-boundary"] == 1


@needs_git
def test_range_past_a_shallow_boundary_is_exit_3(tmp_path: Path) -> None:
    from scanner.cli import main

    _b, cs = _history(tmp_path / "src")
    _git("clone", "-q", "--depth=3", f"file://{tmp_path / 'src'}", str(tmp_path / "sh"))
    root = str(tmp_path / "sh")
    assert main(["scan", root, "--range", f"{cs[7]}..HEAD", "--fail-on", "none"]) == 0
    assert main(["scan", root, "--range", f"{cs[2]}..HEAD"]) == 3  # the base was never fetched
    assert main(["scan", root, "--range", "HEAD~5..HEAD"]) == 3


def test_alternates(tmp_path: Path, swept: Swept) -> None:
    src, cs = _history(tmp_path / "src")
    src.blob(b"other repo's dangling\n" + env_line(62))  # unreachable there: not ours to report
    b = RepoBuilder(tmp_path / "alt")
    (tmp_path / "alt" / ".git" / "objects" / "info" / "alternates").write_text(
        str(tmp_path / "src" / ".git" / "objects") + "\n"
    )
    b.repo = pygit2.Repository(str(tmp_path / "alt"))
    b.repo.references.create("refs/heads/main", cs[5], force=True)
    b.files[cs[5]] = src.files[cs[5]]
    mine = b.commit({"mine.env": env_line(63)})
    own_dangling = b.blob(b"ours\n" + env_line(64))
    exp = swept(tmp_path / "alt")
    assert digest(make_key(62)) not in exp
    assert exp[digest(make_key(60))].first_seen == str(cs[0])  # the history is read through the alternate
    assert exp[digest(make_key(63))].first_seen == str(mine)
    assert {loc[0] for loc in exp[digest(make_key(64))].locations} == {"unreachable"}
    assert digest(make_key(61)) not in exp  # added at commit 8, after this repository's tip
    del own_dangling


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown the workspace")
def test_workspace_owned_by_another_uid(tmp_path: Path) -> None:
    _b, cs = _history(tmp_path / "ws")
    for dirpath, dirnames, filenames in os.walk(tmp_path / "ws"):
        for n in (*dirnames, *filenames):
            os.lchown(os.path.join(dirpath, n), 1001, 121)
    os.chown(tmp_path / "ws", 1001, 121)
    out = tmp_path / "r.json"
    # a fresh process: libgit2's owner check is on until keysweep turns it off
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scanner",
            "scan",
            str(tmp_path / "ws"),
            "--json",
            str(out),
            "--fail-on",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(out.read_text())
    assert rep["scan"]["mode"] == "history" and rep["status"] == "ok"
    firsts = {f["secret_sha256"]: f["first_seen"]["commit"] for f in rep["findings"] if f["first_seen"]}
    assert firsts == {digest(make_key(60)): str(cs[0]), digest(make_key(61)): str(cs[8])}


@needs_git
def test_partial_clone_without_its_promisor_files(tmp_path: Path, swept: Swept, scan: Scan) -> None:
    """Issue 19 item 3: a blobless clone whose .promisor files were removed still lacks the old
    blobs; every tree entry whose blob was never read is counted, as with the markers."""
    _b, cs = _history(tmp_path / "src")
    _git("-C", str(tmp_path / "src"), "config", "uploadpack.allowFilter", "true")
    _git("clone", "-q", "--filter=blob:none", f"file://{tmp_path / 'src'}", str(tmp_path / "part"))
    markers = list((tmp_path / "part" / ".git" / "objects" / "pack").glob("*.promisor"))
    assert markers
    for m in markers:
        m.unlink()
    report = scan(tmp_path / "part")
    assert report.status == "incomplete" and report.stats.complete is False
    assert report.stats.skipped["missing-object"] >= 2
    exp = swept(tmp_path / "part")
    kept = exp[digest(make_key(60))]
    assert kept.first_seen is None and kept.first_seen_truncated is True
    assert exp[digest(make_key(61))].first_seen == str(cs[8])
