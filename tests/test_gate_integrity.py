"""Issue 19 ("Gate integrity"), the repository reading: an unreadable HEAD under --no-history,
a damaged index, and what the range, staged and working-tree reads name and count."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest

from scanner.cli import main
from tests.repo_builder import RepoBuilder, env_line


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
