"""The pre-commit hook, run by the real `pre-commit` tool the way its users install it: a
`.pre-commit-config.yaml` with `repo:` (here a local clone of this project, snapshotted from the
working tree so the test runs the code under test) and `rev:`, `pre-commit install`, then
`git commit`. A staged key is blocked with a message that says how to fix or suppress it; a clean
change, and a key suppressed the way the message says, pass."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.keys import leak_windows, make_key
from tests.repo_builder import RepoBuilder

ROOT = Path(__file__).resolve().parent.parent
# what `pip install .` of the hook repository needs
SNAPSHOT = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml")

pytestmark = pytest.mark.slow


def _snapshot(dest: Path) -> str:
    """A one-commit repository holding this project's installable files as they are on disk."""
    b = RepoBuilder(dest)
    files: dict[str | bytes, bytes | None] = {name: (ROOT / name).read_bytes() for name in SNAPSHOT}
    for path in sorted((ROOT / "scanner").rglob("*")):
        if (
            path.is_file()
            and "__pycache__" not in path.parts
            and path.suffix in (".py", ".yml", ".j2", ".typed")
        ):
            files[path.relative_to(ROOT).as_posix()] = path.read_bytes()
    return str(b.commit(files, message="snapshot"))


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    return env | {
        "HOME": str(home),
        "PRE_COMMIT_HOME": str(home / "pre-commit-cache"),
        "GIT_AUTHOR_NAME": "Ada Builder",
        "GIT_AUTHOR_EMAIL": "ada@example.invalid",
        "GIT_COMMITTER_NAME": "Ada Builder",
        "GIT_COMMITTER_EMAIL": "ada@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
        # keysweep's own caches stay where the rest of the suite keeps them
        "KEYSWEEP_CACHE_HOME": os.environ.get("KEYSWEEP_CACHE_HOME")
        or str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "keysweep"),
        "NO_COLOR": "1",
    }


class User:
    """A repository whose owner installed the hook, and `git` run in it."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path = path
        self.env = env

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        p = subprocess.run(args, cwd=self.path, env=self.env, capture_output=True, text=True, timeout=900)
        if check:
            assert p.returncode == 0, f"{args}: {p.stdout}\n{p.stderr}"
        return p

    def head(self) -> str:
        return self.run("git", "rev-parse", "HEAD").stdout.strip()

    def stage(self, name: str, text: str) -> None:
        (self.path / name).write_text(text)
        self.run("git", "add", name)

    def commit(self, message: str) -> subprocess.CompletedProcess[str]:
        return self.run("git", "commit", "-q", "-m", message, check=False)


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[User]:
    base = tmp_path_factory.mktemp("precommit")
    rev = _snapshot(base / "keysweep-clone")
    home = base / "home"
    home.mkdir()
    u = User(base / "app", _env(home))
    u.path.mkdir()
    u.run("git", "init", "-q", "-b", "main")
    (u.path / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {base / 'keysweep-clone'}\n    rev: {rev}\n    hooks:\n      - id: keysweep\n"
    )
    u.run("git", "add", ".pre-commit-config.yaml")
    u.run(sys.executable, "-m", "pre_commit", "install", "-t", "pre-commit")
    # the first commit makes pre-commit build the hook's environment (pip install of the clone)
    p = u.commit("add pre-commit config")
    assert p.returncode == 0, f"{p.stdout}\n{p.stderr}"
    yield u


def test_a_staged_key_is_blocked_with_how_to_fix_or_suppress(user: User) -> None:
    key = make_key(seed=61)
    before = user.head()
    user.stage("settings.env", f"OPENAI_API_KEY={key}\n")
    p = user.commit("add settings")
    out = p.stdout + p.stderr
    assert p.returncode != 0, out
    assert user.head() == before, "the commit was blocked"
    assert "keysweep" in out and "OpenAI project API key" in out and "settings.env" in out
    assert "To fix: take the key out of the staged file" in out
    assert "keysweep:allow" in out and "[[allow]]" in out and "keysweep baseline update --output F" in out
    leaked = [w for w in leak_windows(key, skip=len("sk-proj-")) if w in out]
    assert not leaked, "the hook's output holds part of the key"
    assert "does not suppress a key whose" in out
    # a pragma the change adds does not suppress a key whose marker verifies offline
    user.stage("settings.env", f"OPENAI_API_KEY={key}  # keysweep:allow revoked sample\n")
    p = user.commit("add a revoked sample")
    assert p.returncode != 0 and user.head() == before, p.stdout + p.stderr
    assert "a keysweep:allow this change adds does not suppress it" in p.stdout + p.stderr
    # suppressed the way the message says (an allowlist), the commit goes through
    user.stage(".keysweep.toml", '[[allow]]\npaths = ["settings.env"]\nreason = "revoked sample"\n')
    p = user.commit("add a revoked sample")
    assert p.returncode == 0, p.stdout + p.stderr
    assert user.head() != before


def test_a_clean_change_passes(user: User) -> None:
    before = user.head()
    user.stage("app.py", "print('hello')\nAPI_KEY = os.environ['OPENAI_API_KEY']\n")
    p = user.commit("add app")
    assert p.returncode == 0, p.stdout + p.stderr
    assert user.head() != before
    assert "keysweep" in p.stdout + p.stderr and "Passed" in p.stdout + p.stderr
