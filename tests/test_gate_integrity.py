"""Issue 19 ("Gate integrity"), the repository reading: an unreadable HEAD under --no-history,
a damaged index, and what the range, staged and working-tree reads name and count."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest

from scanner.cli import main
from tests.oracle import digest
from tests.repo_builder import RepoBuilder, env_line, make_key


def _json(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text())
    return data


def _loose(root: Path, oid: pygit2.Oid | bytes) -> Path:
    h = oid.hex() if isinstance(oid, bytes) else str(oid)
    return root / ".git" / "objects" / h[:2] / h[2:]


def _damage(root: Path, oid: pygit2.Oid | bytes, how: str) -> None:
    p = _loose(root, oid)
    p.chmod(0o644)
    if how == "delete":
        p.unlink()
    else:
        p.write_bytes(p.read_bytes()[:12])


def _repo(root: Path) -> tuple[RepoBuilder, pygit2.Oid]:
    b = RepoBuilder(root)
    b.commit({"README": b"hi\n"})
    c = b.commit({"conf/k.env": env_line(70), "x.txt": b"x\n"})
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    return b, c


# -- item 9: --no-history on a HEAD that cannot be read ------------------------------------


@pytest.mark.parametrize("what", ["commit", "tree"])
@pytest.mark.parametrize("how", ["delete", "truncate"])
def test_no_history_on_an_unreadable_head_is_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str, how: str
) -> None:
    b, c = _repo(tmp_path / "r")
    oid = c if what == "commit" else b.repo[c].tree_id
    _damage(tmp_path / "r", oid, how)
    out = tmp_path / "o.json"
    assert main(["scan", str(tmp_path / "r"), "--no-history", "--json", str(out)]) == 3
    err = capsys.readouterr().err
    assert str(oid) in err and ("corrupt" if how == "truncate" else "missing") in err
    assert _json(out)["status"] == "failed"


# -- item 7: a damaged .git/index -----------------------------------------------------------


def _staged_repo(root: Path) -> RepoBuilder:
    """HEAD holds key 70; the index adds 0.env (key 71), its first entry, before HEAD's files."""
    b, _c = _repo(root)
    (root / "0.env").write_bytes(env_line(71))
    b.repo.index.read()
    b.repo.index.add("0.env")
    b.repo.index.write()
    return b


def _damage_index(root: Path, how: str) -> None:
    idx = root / ".git" / "index"
    data = idx.read_bytes()
    first_end = 12 + ((62 + len(b"0.env") + 8) // 8) * 8  # the header and the first entry (v2)
    if how == "truncate":
        idx.write_bytes(data[: first_end + 30])
    elif how == "garbage":
        idx.write_bytes(b"not an index\n" * 4)
    else:  # a flipped bit in the second entry's path: only the checksum tells
        b = bytearray(data)
        b[first_end + 62] ^= 0x01
        idx.write_bytes(bytes(b))


@pytest.mark.parametrize("how", ["truncate", "garbage", "flip"])
@pytest.mark.parametrize("mode", [[], ["--no-history"], ["--staged"]])
def test_a_damaged_index_is_named_counted_and_the_rest_scanned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str, mode: list[str]
) -> None:
    _staged_repo(tmp_path / "r")
    _damage_index(tmp_path / "r", how)
    out = tmp_path / "o.json"
    code = main(["scan", str(tmp_path / "r"), *mode, "--jobs", "1", "--json", str(out)])
    err = capsys.readouterr().err
    assert "internal error" not in err
    rep = _json(out)
    if mode == ["--staged"]:  # a gate never passes on what it could not read: exit 3, naming it
        assert code == 3 and ".git/index" in err
        assert rep["status"] == "failed"
        return
    assert code == 1, err  # HEAD's key is still found
    stats = rep["stats"]
    assert rep["status"] == "incomplete" and stats["complete"] is False  # type: ignore[index]
    examples = stats["skipped"]["corrupt-object"]["examples"]  # type: ignore[index]
    assert any(e.startswith(".git/index is damaged") for e in examples)
    found = {f["secret_sha256"] for f in rep["findings"]}  # type: ignore[attr-defined]
    assert digest(make_key(70)) in found
    if how != "garbage":  # the staged key sits in the entry before the damage (or in the file)
        assert digest(make_key(71)) in found


def test_the_entries_before_the_damage_are_kept(tmp_path: Path) -> None:
    _staged_repo(tmp_path / "r")
    _damage_index(tmp_path / "r", "truncate")
    out = tmp_path / "o.json"
    assert main(["scan", str(tmp_path / "r"), "--staged", "--no-suppress", "--json", str(out)]) == 3
    from scanner.git.index import load_index

    got = load_index(pygit2.Repository(str(tmp_path / "r")))
    assert [e.path for e in got.entries] == [b"0.env"]
    assert got.damage is not None and "entry 2 of 4" in got.damage


# -- minor: what --range says of a revision past the root, a shallow boundary, a corrupt commit --


def test_a_revision_past_the_root_is_unknown_not_a_fetch_depth_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = RepoBuilder(tmp_path / "r")
    for i in range(4):
        b.commit({"README": f"v{i}\n".encode()})
    root = str(tmp_path / "r")
    for expr in ("HEAD~999..HEAD", "main~4..main", "HEAD^2..HEAD"):
        assert main(["scan", root, "--range", expr]) == 2, expr
        err = capsys.readouterr().err
        assert "unknown revision" in err and "fetch-depth" not in err, (expr, err)
    assert main(["scan", root, "--range", "HEAD~3..HEAD"]) == 0  # the root itself is fine


def test_a_walk_into_a_shallow_boundary_is_exit_3_with_the_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kept apart from the root: the history goes on, it was not fetched."""
    import os
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        pytest.skip("needs the git CLI to make a shallow clone")
    b = RepoBuilder(tmp_path / "src")
    for i in range(6):
        b.commit({"README": f"v{i}\n".encode()})
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}
    subprocess.run(
        [git, "clone", "-q", "--depth=2", f"file://{tmp_path / 'src'}", str(tmp_path / "sh")],
        check=True,
        env=env,
        capture_output=True,
    )
    root = str(tmp_path / "sh")
    for expr in ("HEAD~5..HEAD", "HEAD~2..HEAD", "origin/main~4..HEAD"):
        assert main(["scan", root, "--range", expr]) == 3, expr
        err = capsys.readouterr().err
        assert "shallow" in err and "fetch-depth: 0" in err, (expr, err)


def test_a_corrupt_commit_in_a_range_is_called_corrupt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = RepoBuilder(tmp_path / "r")
    cs = [b.commit({"README": f"v{i}\n".encode()}) for i in range(4)]
    _damage(tmp_path / "r", cs[2], "truncate")
    assert main(["scan", str(tmp_path / "r"), "--range", f"{cs[0]}..HEAD"]) == 3
    err = capsys.readouterr().err
    assert f"commit {cs[2]}" in err and "corrupt" in err
    assert "missing" not in err and "fetch-depth" not in err


@pytest.mark.parametrize("how", ["truncate", "delete"])
def test_a_damaged_head_tree_under_staged_is_counted_by_what_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    b, c = _repo(tmp_path / "r")
    conf = b.repo[c].tree["conf"].id
    (tmp_path / "r" / "conf" / "new.env").write_bytes(env_line(72))
    b.repo.index.read()
    b.repo.index.add("conf/new.env")
    b.repo.index.write()
    _damage(tmp_path / "r", conf, how)
    assert main(["scan", str(tmp_path / "r"), "--staged"]) == 3
    err = capsys.readouterr().err
    want, other = (
        ("corrupt-object", "missing-object") if how == "truncate" else ("missing-object", "corrupt-object")
    )
    assert want in err and other not in err and str(conf) in err


# -- minor: gitlinks in a range, a nested repository in the working tree --------------------


def test_a_gitlink_added_by_a_range_is_counted(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "r")
    base = b.commit({"README": b"hi\n"})
    link = (bytes.fromhex("35" * 20), pygit2.GIT_FILEMODE_COMMIT)
    b.commit({"vendor/lib": link, "k.env": env_line(73)})
    b.commit({"README": b"again\n"})  # the gitlink unchanged: not counted again
    out = tmp_path / "o.json"
    assert main(["scan", str(tmp_path / "r"), "--range", f"{base}..HEAD", "--json", str(out)]) == 1
    rep = _json(out)
    assert rep["stats"]["skipped"]["gitlink"]["count"] == 1  # type: ignore[index]
    assert rep["stats"]["skipped"]["gitlink"]["examples"] == ["vendor/lib → " + "35" * 20]  # type: ignore[index]
    assert rep["status"] == "ok"  # another repository's history: counted, not a gap in this one


@pytest.mark.parametrize("by_walk", [False, True])
def test_an_untracked_nested_repository_is_counted(tmp_path: Path, by_walk: bool) -> None:
    """libgit2's status does not enter it; keysweep's own walk (taken when libgit2's status
    fails, here on a damaged index) reads its files but not its .git/: counted either way."""
    _b, _c = _repo(tmp_path / "r")
    nested = tmp_path / "r" / "vendor" / "tool"
    RepoBuilder(nested).commit({"README": b"nested\n"})
    (nested / "k.env").write_bytes(env_line(74))
    if by_walk:
        _damage_index(tmp_path / "r", "garbage")
    out = tmp_path / "o.json"
    main(["scan", str(tmp_path / "r"), "--jobs", "1", "--json", str(out)])
    examples = _json(out)["stats"]["skipped"]["excluded"]["examples"]  # type: ignore[index]
    want = "vendor/tool/.git/" if by_walk else "vendor/tool/.git/ (a nested repository, not read)"
    assert want in examples, examples
