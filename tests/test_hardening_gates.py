"""Issue 9, defects 3 and 5-7: a gate never passes on what it did not read, large blobs are read,
a bare git directory without `config` is a repository, messages are escaped, and the CLI refuses
option combinations that would lose a report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pygit2
import pytest

from scanner.cli import main
from tests.oracle import digest
from tests.repo_builder import RepoBuilder, env_line, make_key

ROOT = Path(__file__).resolve().parent.parent
DROP_DAC = "-dac_override,-dac_read_search"
needs_setpriv = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to drop privileges"
)


def _json(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text())
    return data


def _digests(report: dict[str, object]) -> set[str]:
    return {f["secret_sha256"] for f in report["findings"]}  # type: ignore[attr-defined,index]


def test_a_key_in_a_65_mb_blob_is_found_in_every_mode(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n"})
    big = b"x" * (65 << 20) + b"\n" + env_line(90)
    b.commit({"dump.sql": big})
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    for mode in ([], ["--no-history"], ["--range", "HEAD~1..HEAD"]):
        out = tmp_path / "o.json"
        assert main(["scan", str(tmp_path / "r"), *mode, "--json", str(out)]) == 1, mode
        rep = _json(out)
        assert digest(make_key(90)) in _digests(rep), mode
        assert rep["stats"]["complete"] is True  # type: ignore[index]


def _corrupt_loose(root: Path, oid: pygit2.Oid) -> None:
    p = root / ".git" / "objects" / str(oid)[:2] / str(oid)[2:]
    p.chmod(0o644)
    p.write_bytes(p.read_bytes()[:12])


def test_a_range_with_an_unreadable_blob_is_exit_3_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n"})
    b.commit({"a.env": env_line(91), "hidden.env": b"# " + env_line(92)})
    blob = b.repo.revparse_single("HEAD:hidden.env").id
    _corrupt_loose(tmp_path / "r", blob)
    out = tmp_path / "o.json"
    code = main(["scan", str(tmp_path / "r"), "--range", "HEAD~1..HEAD", "--json", str(out)])
    err = capsys.readouterr().err
    assert code == 3
    assert str(blob) in err and "range scan must read every blob" in err
    rep = _json(out)
    assert rep["status"] == "failed" and str(blob) in str(rep["error"])
    # the full sweep is incomplete, which passes without --strict and fails with it
    assert main(["scan", str(tmp_path / "r"), "--fail-on", "none"]) == 0
    assert main(["scan", str(tmp_path / "r"), "--fail-on", "none", "--strict"]) == 3
    assert main(["scan", str(tmp_path / "r"), "--no-history", "--fail-on", "none", "--strict"]) == 3


def test_staged_with_an_unreadable_index_blob_is_exit_3(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n"})
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    (tmp_path / "r" / "k.env").write_bytes(env_line(93))
    b.repo.index.add("k.env")
    b.repo.index.write()
    _corrupt_loose(tmp_path / "r", b.repo.index["k.env"].id)
    assert main(["scan", str(tmp_path / "r"), "--staged"]) == 3


def test_a_bare_git_directory_without_config_is_swept_as_a_repository(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "src.git", bare=True)
    b.commit({"a.env": env_line(94)})
    b.commit({"a.env": None, "b.env": env_line(95)})
    mirror = tmp_path / "backup" / "repo.git"
    shutil.copytree(tmp_path / "src.git", mirror)
    (mirror / "config").unlink()
    out_src, out_mirror = tmp_path / "s.json", tmp_path / "m.json"
    assert main(["scan", str(tmp_path / "src.git"), "--json", str(out_src)]) == 1
    assert main(["scan", str(mirror), "--json", str(out_mirror)]) == 1
    assert (
        _digests(_json(out_mirror))
        == _digests(_json(out_src))
        == {digest(make_key(94)), digest(make_key(95))}
    )


def test_a_path_no_commit_holds_is_said(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"src/a.env": env_line(96)})
    (tmp_path / "r" / "nowhere").mkdir()
    out = tmp_path / "o.json"
    assert main(["scan", str(tmp_path / "r" / "nowhere"), "--json", str(out)]) == 0
    assert _json(out)["stats"]["skipped"]["path-not-in-history"]["count"] == 1  # type: ignore[index]
    (tmp_path / "r" / "src").mkdir()
    assert main(["scan", str(tmp_path / "r" / "src"), "--json", str(out)]) == 1
    assert "path-not-in-history" not in _json(out)["stats"]["skipped"]  # type: ignore[operator]


@pytest.mark.parametrize("bad", ["\x1b[31mred", "bell\x07", "::error::x"])
def test_messages_escape_control_characters(
    tmp_path: Path, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(tmp_path / bad)]) == 3  # does not exist
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\n::" not in "\n" + err
    (tmp_path / "ok.env").write_text("A=1\n")
    assert main(["scan", str(tmp_path / "ok.env"), "--json", str(tmp_path / "nodir" / bad / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err


def test_option_combinations_that_lose_a_report_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("nothing\n")
    assert main(["scan", str(tmp_path), "--sarif", "-", "--json", "-"]) == 2
    same = str(tmp_path / "out.json")
    assert main(["scan", str(tmp_path), "--sarif", same, "--json", same]) == 2
    cache_file = tmp_path / "cachefile"
    cache_file.write_text("")
    assert main(["scan", str(tmp_path), "--cache", str(cache_file)]) == 2
    assert main(["scan", str(tmp_path), "--sarif", str(tmp_path / "a.sarif"), "--json", same]) == 0


def _dropped(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [
            "setpriv",
            f"--bounding-set={DROP_DAC}",
            f"--inh-caps={DROP_DAC}",
            sys.executable,
            "-m",
            "scanner",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@needs_setpriv
def test_an_unreadable_pack_directory_names_its_path(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"a.env": env_line(97)})
    pack = tmp_path / "r" / ".git" / "objects" / "pack"
    os.chown(pack, 65534, 65534)
    os.chmod(pack, 0o700)
    got = _dropped(["scan", str(tmp_path / "r")])
    assert got.returncode == 3
    assert str(pack) in got.stderr and "internal error" not in got.stderr


@needs_setpriv
def test_a_permission_denied_loose_object_is_counted_once(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n", "a.env": env_line(98)})
    blob = b.repo.revparse_single("HEAD:README").id
    p = tmp_path / "r" / ".git" / "objects" / str(blob)[:2] / str(blob)[2:]
    os.chown(p, 65534, 65534)
    os.chmod(p, 0o600)
    out = tmp_path / "o.json"
    got = _dropped(["scan", str(tmp_path / "r"), "--json", str(out), "--fail-on", "none"])
    assert got.returncode == 0, got.stderr
    skipped = _json(out)["stats"]["skipped"]
    assert sum(v["count"] for k, v in skipped.items() if k != "excluded") == 1, skipped  # type: ignore[attr-defined]


def test_where_a_finding_sits_is_said_truly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "k.env").write_bytes(env_line(99))
    out = tmp_path / "o.json"
    assert main(["scan", str(plain), "--json", str(out)]) == 1
    assert "in a file (not in a git repository)" in capsys.readouterr().out
    assert [f["exposure"] for f in _json(out)["findings"]] == ["file"]  # type: ignore[attr-defined,index]

    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n"})
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    (tmp_path / "r" / "untracked.env").write_bytes(env_line(100))
    assert main(["scan", str(tmp_path / "r"), "--no-history"]) == 1
    text = capsys.readouterr().out
    assert "in the working tree, not committed" in text and "committed to the repository" not in text
    (tmp_path / "r" / "untracked.env").unlink()
    (tmp_path / "r" / "staged.env").write_bytes(env_line(101))
    b.repo.index.add("staged.env")
    b.repo.index.write()
    assert main(["scan", str(tmp_path / "r"), "--staged"]) == 1
    text = capsys.readouterr().out
    assert "staged in the index, not committed yet" in text and "committed to the repository" not in text
