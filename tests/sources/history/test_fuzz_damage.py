"""Damage fuzzing (issue 9): random loose and packed objects of built repositories are truncated,
corrupted or deleted, and every mode must end within a time bound with exit 0, 1 or 3 — never a
hang, a traceback or an internal error."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pygit2
import pytest

from tests.paths import ROOT
from tests.repo_builder import RepoBuilder, env_line, pack_all

MODES = [[], ["--no-history"], ["--range", "HEAD~2..HEAD"], ["--staged"]]
ROUNDS = int(os.environ.get("KEYSWEEP_FUZZ_ROUNDS", "6"))


def _history(root: Path) -> RepoBuilder:
    b = RepoBuilder(root)
    for i in range(6):
        files: dict[str | bytes, bytes | None] = {
            "README": f"v{i}\n".encode(),
            f"d{i % 3}/k{i}.env": env_line(200 + i),
        }
        if i % 2:
            files[f"d{(i + 1) % 3}/k{i - 1}.env"] = None
        b.commit(files, message=f"c{i}")
    b.commit({"side.env": env_line(210)}, ref="refs/heads/side")
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    (root / "staged.env").write_bytes(env_line(211))
    b.repo.index.add("staged.env")
    b.repo.index.write()
    return b


def _damage(root: Path, rng: random.Random) -> str:
    objects = root / ".git" / "objects"
    files = sorted(
        p
        for p in objects.rglob("*")
        if p.is_file() and (len(p.parent.name) == 2 or p.suffix in (".pack", ".idx"))
    )
    victims = rng.sample(files, k=min(len(files), rng.randint(1, 3)))
    done = []
    for p in victims:
        p.chmod(0o644)
        data = p.read_bytes()
        how = rng.choice(["truncate", "flip", "delete", "empty"])
        if how == "truncate":
            p.write_bytes(data[: rng.randrange(0, max(1, len(data)))])
        elif how == "flip":
            b = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                if b:
                    b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            p.write_bytes(bytes(b))
        elif how == "empty":
            p.write_bytes(b"")
        else:
            p.unlink()
        done.append(f"{how} {p.relative_to(root)}")
    return "; ".join(done)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("fuzz")
    loose = base / "loose"
    _history(loose)
    packed = base / "packed"
    b = _history(packed)
    pack_all(b.repo)
    return {"loose": loose, "packed": packed}


@pytest.mark.parametrize("kind", ["loose", "packed"])
@pytest.mark.parametrize("seed", range(ROUNDS))
def test_damaged_objects_end_every_mode_cleanly(
    built: dict[str, Path], tmp_path: Path, kind: str, seed: int
) -> None:
    rng = random.Random(f"{kind}:{seed}")
    root = tmp_path / "r"
    shutil.copytree(built[kind], root, symlinks=True)
    what = _damage(root, rng)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KEYSWEEP_STALL_SECONDS": "20"}
    for mode in MODES:
        got = subprocess.run(
            [sys.executable, "-m", "scanner", "scan", str(root), *mode, "--jobs", "1"],
            capture_output=True,
            text=True,
            timeout=90,
            env=env,
        )
        where = f"{kind} seed {seed} ({what}), mode {mode}"
        assert got.returncode in (0, 1, 3), f"{where}: exit {got.returncode}\n{got.stderr}"
        assert "Traceback" not in got.stderr, f"{where}\n{got.stderr}"
        assert "internal error" not in got.stderr, f"{where}\n{got.stderr}"
        assert "no progress for" not in got.stderr, f"{where}: a stall\n{got.stderr}"


# -- issue 19 item 3: blobs absent from a pack, with no promisor marker ---------------------------


def _run_modes(root: Path, where: str, extra: tuple[str, ...] = ()) -> dict[str, object]:
    """Every mode ends cleanly; the full sweep's JSON report is returned."""
    import json

    env = {**os.environ, "PYTHONPATH": str(ROOT), "KEYSWEEP_STALL_SECONDS": "20"}
    report: dict[str, object] = {}
    for mode in MODES:
        out = root.parent / "sweep.json"
        got = subprocess.run(
            [sys.executable, "-m", "scanner", "scan", str(root), *mode, "--jobs", "1", *extra]
            + (["--json", str(out)] if not mode else []),
            capture_output=True,
            text=True,
            timeout=90,
            env=env,
        )
        at = f"{where}, mode {mode}"
        assert got.returncode in (0, 1, 3), f"{at}: exit {got.returncode}\n{got.stderr}"
        assert "Traceback" not in got.stderr and "internal error" not in got.stderr, f"{at}\n{got.stderr}"
        if not mode:
            report = json.loads(out.read_text())
            report["exit"] = got.returncode
    return report


def _tree_blobs(repo: pygit2.Repository) -> list[pygit2.Oid]:
    """Every blob some commit's tree names, in a stable order."""
    out: set[pygit2.Oid] = set()

    def walk(tree: pygit2.Tree) -> None:
        for e in tree:
            if e.filemode == pygit2.GIT_FILEMODE_TREE:
                walk(repo[e.id])  # type: ignore[arg-type]
            elif e.filemode != pygit2.GIT_FILEMODE_COMMIT:
                out.add(e.id)

    for oid in repo.odb:
        obj = repo[oid]
        if isinstance(obj, pygit2.Commit):
            walk(obj.tree)
    return sorted(out, key=str)


@pytest.mark.parametrize("seed", range(ROUNDS))
def test_blobs_left_out_of_a_pack_are_counted(tmp_path: Path, seed: int) -> None:
    """A pack rewritten without some of the blobs its trees name (no .promisor file): every mode
    ends cleanly, and the full sweep is incomplete (--strict: exit 3), never a silent `ok`."""
    rng = random.Random(f"pack-blobs:{seed}")
    root = tmp_path / "r"
    b = _history(root)
    blobs = _tree_blobs(b.repo)
    lost = frozenset(rng.sample(blobs, k=rng.randint(1, 3)))
    pack_all(b.repo, lost)
    assert not list((root / ".git" / "objects" / "pack").glob("*.promisor"))
    where = f"seed {seed} (left out {sorted(map(str, lost))})"
    report = _run_modes(root, where, ("--strict",))
    stats = report["stats"]
    assert report["exit"] == 3 and report["status"] == "failed", where
    assert stats["complete"] is False, where  # type: ignore[index]
    assert "missing-object" in str(report["error"]), where


def _git(*args: str) -> None:
    git = shutil.which("git")
    assert git is not None
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent", "GIT_TERMINAL_PROMPT": "0"}
    subprocess.run([git, *args], check=True, capture_output=True, env=env, timeout=60)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git CLI to make a partial clone")
def test_a_blobless_clone_without_its_promisor_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _history(src)
    _git("-C", str(src), "config", "uploadpack.allowFilter", "true")
    part = tmp_path / "part"
    _git("clone", "-q", "--filter=blob:none", "--no-checkout", f"file://{src}", str(part))
    markers = list((part / ".git" / "objects" / "pack").glob("*.promisor"))
    assert markers
    for m in markers:
        m.unlink()
    report = _run_modes(part, "blobless clone, promisor files removed")
    assert report["status"] == "incomplete"
    assert report["stats"]["skipped"]["missing-object"]["count"] >= 1  # type: ignore[index]
