"""Bad inputs and unwritable files, through `entrypoint.sh`: each is a clear exit 2 that quotes
the value once-escaped and cut, never an internal error, never a value silently ignored, never a
write outside the workspace; a file that cannot be written loses nothing else."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pygit2
import pytest

from scanner.paths import cache_home
from tests.action_runner import (
    ENTRYPOINT,
    VENV_BIN,
    Planted,
    Runner,
    checkout,
    chown_tree,
    plant_key,
    push_payload,
    run_entrypoint,
)
from tests.repo_builder import RepoBuilder

HUGE = 120_000


@pytest.fixture
def pushed(tmp_path: Path) -> tuple[Runner, dict[str, str], dict[str, Planted]]:
    """main: c0 → c1, which adds a key; the push of c1 (a gate with one high finding)."""
    keys = {"k": plant_key("openai.project-key", 80)}
    b = RepoBuilder(tmp_path / "origin")
    c = {"c0": str(b.commit({"README.md": b"app\n"}))}
    c["c1"] = str(b.commit({"deploy.env": keys["k"].line()}))
    runner = Runner(workspace=tmp_path / "work" / "app" / "app", temp=tmp_path / "work" / "_temp")
    checkout(tmp_path / "origin", runner.workspace, branch="main")
    chown_tree(runner.workspace)
    return runner, c, keys


def _push(
    scenario: tuple[Runner, dict[str, str], dict[str, Planted]], inputs: dict[str, str] | None = None
) -> tuple[int, str, str, dict[str, str]]:
    runner, c, keys = scenario
    payload = push_payload("refs/heads/main", c["c0"], c["c1"], commits=(c["c1"],))
    r = run_entrypoint(runner, "push", payload, c["c1"], "refs/heads/main", keys, inputs=inputs)
    return r.code, r.stdout, r.stderr, r.outputs


def test_a_bad_value_is_quoted_once_escaped_and_cut(
    pushed: tuple[Runner, dict[str, str], dict[str, Planted]],
) -> None:
    value = "x\\y" + "A" * HUGE
    code, stdout, stderr, outputs = _push(pushed, {"mode": value})
    assert code == 2 and outputs == {"status": "failed"}
    assert "input `mode` must be auto | pr | push | full | tree, not 'x\\\\yAAA" in stderr
    assert f"({len(value)} characters)" in stderr
    assert "x\\\\\\\\y" not in stderr + stdout  # the backslash escaped once, not twice
    (annotation,) = [line for line in stdout.splitlines() if line.startswith("::error")]
    assert "not 'x\\\\yAAA" in annotation
    assert len(stderr) < 1000 and len(annotation) < 1000  # not the 120 KB value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("path", "a" * HUGE),
        ("path", "abc/" * 2000),
        ("sarif-file", "s" * 300 + ".sarif"),
        ("html-file", "h" * 300 + ".html"),
        ("cache-dir", "c" * HUGE),
        ("bundles", "dist\n" + "b" * 5000),
        ("config", "k" * 300),
    ],
)
def test_a_path_too_long_is_exit_2(
    pushed: tuple[Runner, dict[str, str], dict[str, Planted]], name: str, value: str
) -> None:
    code, _, stderr, outputs = _push(pushed, {name: value})
    assert code == 2, stderr
    assert f"input `{name}` " in stderr and ("too long" in stderr or "a file name of" in stderr)
    assert "internal error" not in stderr and len(stderr) < 1000
    assert outputs["status"] == "failed"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("config", "/github/workspace/.keysweep.toml"),
        ("config", "../.keysweep.toml"),
        ("config", "conf/../../x.toml"),
        ("baseline", "/tmp/baseline.json"),
        ("baseline", "../baseline.json"),
    ],
)
def test_config_and_baseline_must_be_repository_relative(
    pushed: tuple[Runner, dict[str, str], dict[str, Planted]], name: str, value: str
) -> None:
    code, _, stderr, outputs = _push(pushed, {name: value})
    assert code == 2, stderr
    assert f"input `{name}` must be a repository-relative path without `..`" in stderr
    assert outputs["status"] == "failed"


def test_the_sarif_file_stays_in_the_workspace(
    pushed: tuple[Runner, dict[str, str], dict[str, Planted]], tmp_path: Path
) -> None:
    runner = pushed[0]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (runner.workspace / "reports").symlink_to(outside)  # e.g. a symlink the change checked in
    for value in (str(outside / "k.sarif"), "../k.sarif", "reports/k.sarif", "."):
        code, _, stderr, outputs = _push(pushed, {"sarif-file": value})
        assert code == 2, (value, stderr)
        assert "input `sarif-file` must name a file inside the workspace" in stderr
        assert outputs == {"status": "failed"}
    assert list(outside.iterdir()) == [] and not (runner.workspace.parent / "k.sarif").exists()
    # the control: an absolute path inside the workspace is fine
    code, _, _, outputs = _push(pushed, {"sarif-file": str(runner.workspace / "out" / "k.sarif")})
    assert code == 1 and outputs["sarif-file"] == "out/k.sarif"


def test_an_unwritable_github_output_loses_nothing_else(
    pushed: tuple[Runner, dict[str, str], dict[str, Planted]],
) -> None:
    runner, c, keys = pushed
    payload = push_payload("refs/heads/main", c["c0"], c["c1"], commits=(c["c1"],))
    env, _ = runner.env("push", payload, c["c1"], "refs/heads/main")
    blocked = runner.file_commands / "set_output_blocked"
    blocked.mkdir()  # a directory: opening it to append fails
    env |= {
        "GITHUB_OUTPUT": str(blocked),
        "PATH": f"{VENV_BIN}:/usr/bin:/bin",
        "KEYSWEEP_CACHE_HOME": str(cache_home()),
    }
    proc = subprocess.run(
        [str(ENTRYPOINT)], capture_output=True, text=True, timeout=300, cwd=runner.workspace, env=env
    )
    assert proc.returncode == 2
    assert "keysweep: error: cannot write GITHUB_OUTPUT" in proc.stderr
    assert "::error file=deploy.env,line=1" in proc.stdout  # the finding's annotation
    assert (
        "::error title=keysweep%3A an output could not be written::cannot write GITHUB_OUTPUT" in proc.stdout
    )
    assert "keysweep: exit 2: cannot write GITHUB_OUTPUT" in proc.stdout
    assert "the scan itself: exit 1: findings at or above high in the range" in proc.stdout
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("## keysweep: ")
    assert keys["k"].secret not in proc.stdout + proc.stderr + summary


def test_a_failed_gate_outputs_no_counts(tmp_path: Path) -> None:
    """The range's blobs are missing (a partial clone): the gate fails, and its `findings` is
    empty, not a 0 that reads as clean."""
    import os
    import shutil

    git = shutil.which("git")
    if git is None:
        pytest.skip("needs the git CLI to make a partial clone")
    keys = {"k": plant_key("openai.project-key", 81)}
    b = RepoBuilder(tmp_path / "origin")
    c0 = str(b.commit({"README.md": b"app\n"}))
    c1 = str(b.commit({"deploy.env": keys["k"].line()}))
    c2 = str(b.commit({"deploy.env": b"# rotated\n"}))
    git_env = {**os.environ, "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(
        [git, "-C", str(tmp_path / "origin"), "config", "uploadpack.allowFilter", "true"], check=True
    )
    runner = Runner(workspace=tmp_path / "work" / "app" / "app", temp=tmp_path / "work" / "_temp")
    runner.workspace.parent.mkdir(parents=True)
    subprocess.run(
        [git, "clone", "-q", "--filter=blob:none", f"file://{tmp_path / 'origin'}", str(runner.workspace)],
        check=True,
        capture_output=True,
        env=git_env,
    )
    assert pygit2.Repository(str(runner.workspace)).get(c1) is not None
    chown_tree(runner.workspace)
    payload = push_payload("refs/heads/main", c0, c2, commits=(c1, c2))
    r = run_entrypoint(runner, "push", payload, c2, "refs/heads/main", keys)
    assert r.code == 3, r.stdout + r.stderr
    assert r.outputs["status"] == "failed"
    assert (r.outputs["findings"], r.outputs["critical"], r.outputs["high"]) == ("", "", "")


def test_the_log_says_how_much_of_the_history_cache_was_reused(
    pushed: tuple[Runner, dict[str, str], dict[str, Planted]], tmp_path: Path
) -> None:
    """None found, then all of it (nothing changed), then part of it (new objects); a cache-dir
    outside the workspace is named as one the host's actions/cache may never see."""
    runner, c, keys = pushed
    payload = {"inputs": {}, "ref": "refs/heads/main", "repository": {"full_name": "octo/app"}}
    inputs = {"cache-dir": ".git/keysweep-cache"}

    def sweep(given: dict[str, str]) -> str:
        r = run_entrypoint(
            runner, "workflow_dispatch", payload, c["c1"], "refs/heads/main", keys, inputs=given
        )
        assert r.code == 1, r.stdout + r.stderr
        return r.stdout

    first = sweep(inputs)
    assert "history cache: none found in .git/keysweep-cache (a first run, or nothing restored)" in first
    assert (
        "reused none (no cache file for this repository, keysweep version and ruleset): every object" in first
    )
    assert "outside the workspace" not in first
    second = sweep(inputs)
    assert "keysweep: history cache: found 1 file (" in second
    assert "keysweep: history cache: reused all of it (" in second and "the repository is unchanged" in second
    chown_tree(runner.workspace, 0, 0)  # this process keeps libgit2's owner check
    repo = pygit2.Repository(str(runner.workspace))
    sig = pygit2.Signature("a", "a@example.invalid", 1_700_000_000, 0)
    blob = repo.create_blob(b"new file\n")
    builder = repo.TreeBuilder(repo.head.peel(pygit2.Commit).tree)
    builder.insert("new.txt", blob, pygit2.GIT_FILEMODE_BLOB)
    repo.create_commit("refs/heads/main", sig, sig, "more", builder.write(), [repo.head.target])
    chown_tree(runner.workspace)
    third = sweep(inputs)
    got = re.search(r"history cache: reused (\d+) of (\d+) objects; the 3 new ones were read", third)
    assert got is not None, third  # the commit, its tree and the blob are new
    assert int(got.group(2)) == int(got.group(1)) + 3 and int(got.group(1)) > 0
    outside = sweep({"cache-dir": str(tmp_path / "elsewhere")})
    assert "note: cache-dir " in outside and "is outside the workspace" in outside


def test_html_file_writes_the_report_for_upload_artifact(
    pushed: tuple[Runner, dict[str, str], dict[str, Planted]],
) -> None:
    """`html-file`: the gated scan's HTML report (the `html` format), at a workspace-relative
    path whose folders are made, said in the log; without it no HTML file is written."""
    runner, _, keys = pushed
    code, stdout, stderr, outputs = _push(pushed)
    assert code == 1 and not list(runner.workspace.rglob("*.html")), stderr
    code, stdout, stderr, outputs = _push(pushed, {"html-file": "reports/keysweep.html"})
    assert code == 1 and outputs["status"] == "ok", stderr
    page = (runner.workspace / "reports" / "keysweep.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "openai.project-key" in page
    assert keys["k"].secret not in page  # run_entrypoint searched it too
    assert "keysweep: HTML report written to reports/keysweep.html" in stdout


def test_html_file_stays_in_the_workspace_and_apart_from_the_sarif_file(
    pushed: tuple[Runner, dict[str, str], dict[str, Planted]], tmp_path: Path
) -> None:
    runner = pushed[0]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (runner.workspace / "reports").symlink_to(outside)
    for value in (str(outside / "k.html"), "../k.html", "reports/k.html", "."):
        code, _, stderr, outputs = _push(pushed, {"html-file": value})
        assert code == 2, (value, stderr)
        assert "input `html-file` must name a file inside the workspace" in stderr
        assert outputs == {"status": "failed"}
    code, _, stderr, outputs = _push(pushed, {"html-file": "out.sarif", "sarif-file": "out.sarif"})
    assert code == 2 and "inputs `html-file` and `sarif-file` must name different files" in stderr
    assert outputs == {"status": "failed"} and not (runner.workspace / "out.sarif").exists()
    assert list(outside.iterdir()) == [] and not (runner.workspace.parent / "k.html").exists()


def test_an_unwritable_html_file_loses_nothing_else(
    pushed: tuple[Runner, dict[str, str], dict[str, Planted]],
) -> None:
    runner = pushed[0]
    (runner.workspace / "blocked.html").mkdir()  # a directory: writing the file there fails
    code, stdout, stderr, outputs = _push(pushed, {"html-file": "blocked.html"})
    assert code == 2
    assert "keysweep: error: cannot write the HTML report" in stderr
    assert outputs["status"] == "ok" and outputs["findings"] == "1"  # the SARIF file and outputs
    assert (runner.workspace / "keysweep.sarif").is_file()
    assert "::error file=deploy.env,line=1" in stdout  # the finding's annotation
    assert "the scan itself: exit 1: findings at or above high in the range" in stdout


def test_a_failed_run_writes_a_failed_html_page(
    pushed: tuple[Runner, dict[str, str], dict[str, Planted]],
) -> None:
    """A run that cannot scan still leaves the upload step a page, saying why."""
    runner = pushed[0]
    code, _, stderr, outputs = _push(pushed, {"html-file": "k.html", "path": "missing"})
    assert code == 3 and outputs["status"] == "failed", stderr
    page = (runner.workspace / "k.html").read_text()
    assert "keysweep: the scan failed" in page and "does not exist" in page
