"""The gate and the pragmas a pull request adds (issue 19, item 2a): a `keysweep:allow` that the
change itself adds is its author approving their own key. By default it does not suppress a key
whose structure is verified offline (a CRC-32 checksum, OpenAI's marker), it is shown on its line
and in the summary when it does suppress one, and only the trusted (base) config can change that.

Each test runs the Action's entrypoint on a real repository: a base commit, a pull request branch
and GitHub's merge commit checked out as actions/checkout leaves it (tests/action_runner.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.action_runner import Planted, Run, Runner, pull_request_job, pull_request_payload, run_entrypoint
from tests.keys import make_key
from tests.repo_builder import RepoBuilder
from tests.workflow_commands import Command, read_commands

PR = 19
VERIFIED = ("github.pat", "openai.project-key")  # CRC-32 checksum; the base64 "OpenAI" marker
UNVERIFIED = "anthropic.api-key"  # no checksum, no marker: nothing to verify offline
ALL = b'[pragmas]\nadded-by-change = "all"\n'
NONE = b'[pragmas]\nadded-by-change = "none"\n'


def _pr(
    tmp_path: Path,
    rule_id: str,
    *,
    base_config: bytes | None = None,
    pr_config: bytes | None = None,
    base_pragma: Planted | None = None,
) -> tuple[Run, dict[str, Planted]]:
    """main: c0 (maybe a config, maybe a key with a pragma in old/.env); the pull request f1 adds
    `app/config.py` holding a key of `rule_id` with a same-line pragma (and touches old/.env
    next to its pragma'd key, and maybe the config); the Action runs on the merge commit."""
    keys = {"added": Planted.of(rule_id, make_key(rule_id, seed=190))}
    b = RepoBuilder(tmp_path / "origin")
    files: dict[str | bytes, bytes | None] = {"README.md": b"app\n"}
    if base_config is not None:
        files[".keysweep.toml"] = base_config
    old = b""
    if base_pragma is not None:
        keys["base"] = base_pragma
        old = f"OLD_TOKEN={base_pragma.secret}  # keysweep:allow revoked sample\n".encode()
        files["old/.env"] = old
    c0 = b.commit(files)
    line = f'API_KEY = "{keys["added"].secret}"  # keysweep:allow test fixture\n'
    change: dict[str | bytes, bytes | None] = {"app/config.py": b"import os\n" + line.encode()}
    if base_pragma is not None:  # the file changes, its pragma'd line does not
        change["old/.env"] = old + b"DEBUG=1\n"
    if pr_config is not None:
        change[".keysweep.toml"] = pr_config
    f1 = b.commit(change, ref="refs/heads/feature", parents=[c0])
    runner, merge = pull_request_job(b, tmp_path, PR, c0, f1)
    payload = pull_request_payload(PR, base=str(c0), head=str(f1))
    return run_entrypoint(runner, "pull_request", payload, merge, f"refs/pull/{PR}/merge", keys), keys


def _annotations(r: Run) -> list[Command]:
    return [c for c in read_commands(r.stdout) if c.name in ("error", "warning", "notice")]


def _on_the_line(r: Run) -> list[Command]:
    return [c for c in _annotations(r) if c.properties.get("file") == "app/config.py"]


@pytest.mark.parametrize("rule_id", VERIFIED)
def test_a_pragma_the_pull_request_adds_does_not_pass_a_verified_key(tmp_path: Path, rule_id: str) -> None:
    r, _ = _pr(tmp_path, rule_id)
    assert r.code == 1, r.stdout + r.stderr
    assert r.outputs["findings"] == "1"
    (note,) = _on_the_line(r)
    assert note.name == "error" and note.properties["line"] == "2"
    assert (
        "A keysweep:allow that this change adds does not suppress it: its structure is verified offline"
        in (note.data)
    )
    assert "a keysweep:allow this change adds does not suppress it" in r.stdout  # the console
    assert "### Pragmas this change adds" in r.summary
    assert "**Counted**, not suppressed by the pragma this change adds" in r.summary
    assert "app/config.py:2" in r.summary


def test_a_pragma_the_pull_request_adds_still_passes_an_unverifiable_key_but_shows_it(tmp_path: Path) -> None:
    r, _ = _pr(tmp_path, UNVERIFIED)
    assert r.code == 0, r.stdout + r.stderr
    assert r.outputs["findings"] == "0"
    (note,) = _on_the_line(r)
    assert note.name == "warning" and note.properties["line"] == "2"
    assert note.properties["title"].startswith("keysweep: suppressed by a pragma this change adds")
    assert "its structure cannot be verified offline" in note.data
    assert "Suppressed by a pragma this change adds: Anthropic API key" in r.summary
    assert "app/config.py:2" in r.summary
    assert "Suppressed by a pragma this change adds (not counted; review them): 1" in r.stdout


def test_a_pragma_already_on_the_base_still_suppresses(tmp_path: Path) -> None:
    """old/.env keeps its pragma'd key (verified) on an unchanged line while the change edits the
    file: the range reports it (the pragma'd secret is no introduction it can tell), and the
    pragma, the base's own, suppresses it; only the new file's pragma is the change's."""
    base = Planted.of("github.pat", make_key("github.pat", seed=191))
    r, _ = _pr(tmp_path, UNVERIFIED, base_pragma=base)
    assert r.code == 0, r.stdout + r.stderr
    assert "- Suppressed, not counted above: 2 `pragma`." in r.summary
    added = [
        line
        for line in r.summary.splitlines()
        if line.startswith("- Suppressed by a pragma this change adds")
    ]
    assert len(added) == 1 and "app/config.py" in added[0] and "old/.env" not in r.summary
    assert [c.properties.get("file") for c in _annotations(r)] == ["app/config.py"]


def test_the_base_config_decides_what_an_added_pragma_suppresses(tmp_path: Path) -> None:
    r, _ = _pr(tmp_path / "all", "github.pat", base_config=ALL)
    assert r.code == 0, r.stdout + r.stderr
    (note,) = _on_the_line(r)
    assert note.name == "warning" and 'pragmas.added-by-change = "all"' in note.data
    r, _ = _pr(tmp_path / "none", UNVERIFIED, base_config=NONE)
    assert r.code == 1, r.stdout + r.stderr
    (note,) = _on_the_line(r)
    assert note.name == "error" and 'the config sets pragmas.added-by-change = "none"' in note.data


def test_the_pull_requests_own_config_cannot_let_its_pragma_pass(tmp_path: Path) -> None:
    r, _ = _pr(tmp_path, "github.pat", pr_config=ALL)
    assert r.code == 1, r.stdout + r.stderr
    assert "note: this change edits .keysweep.toml; the scan uses the trusted commit's version" in r.stdout
    (note,) = _on_the_line(r)
    assert note.name == "error"


def test_a_push_range_tells_added_pragmas_too(tmp_path: Path) -> None:
    """A push's range (`before..after`) is a change under scan as a pull request's is."""
    from tests.action_runner import checkout, chown_tree, push_payload

    key = Planted.of("github.pat", make_key("github.pat", seed=192))
    b = RepoBuilder(tmp_path / "origin")
    c0 = b.commit({"README.md": b"app\n"})
    c1 = b.commit({"ci.env": f"GH_TOKEN={key.secret}  # keysweep:allow\n".encode()}, parents=[c0])
    runner = Runner(workspace=tmp_path / "work" / "app" / "app", temp=tmp_path / "work" / "_temp")
    checkout(b.path, runner.workspace, branch="main")
    chown_tree(runner.workspace)
    payload = push_payload("refs/heads/main", str(c0), str(c1), commits=(str(c1),))
    r = run_entrypoint(runner, "push", payload, str(c1), "refs/heads/main", {"k": key})
    assert r.code == 1, r.stdout + r.stderr
    (note,) = [c for c in _annotations(r) if c.properties.get("file") == "ci.env"]
    assert note.name == "error" and "does not suppress it" in note.data
