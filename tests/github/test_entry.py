"""The action end to end, as the runner runs it: `entrypoint.sh` executed directly (its shebang
counts), every input of action.yml set to its evaluated default, a real event payload file, the
runner's variables, and a workspace checked out as actions/checkout does and owned by uid 1001.

Each test asserts the range scanned (the log line, and which planted secrets the gate reports),
the outputs in `$GITHUB_OUTPUT`, the SARIF file's category and the exit code; every run is
searched for every planted secret.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pygit2
import pytest

from tests.action_runner import (
    ENTRYPOINT,
    ZERO,
    Planted,
    Runner,
    assert_no_leak,
    checkout,
    chown_tree,
    plant_key,
    pull_request_job,
    pull_request_payload,
    push_payload,
    run_entrypoint,
    schedule_payload,
    secret_digest,
)
from tests.action_scenarios import ALLOW_ALL, config_pr
from tests.repo_builder import RepoBuilder

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="needs the git CLI to make shallow and partial clones")


def _runner(tmp_path: Path) -> Runner:
    return Runner(workspace=tmp_path / "work" / "app" / "app", temp=tmp_path / "work" / "_temp")


def _clean_line(i: int) -> bytes:
    return f"value {i}\n".encode()


# --- the repositories -------------------------------------------------------------------------


@pytest.fixture
def pr_repo(tmp_path: Path) -> tuple[Runner, dict[str, str], dict[str, Planted]]:
    """main: c0 (a key on the base) → c1; feature from c1: f1 (critical key) → f2 (high key);
    refs/pull/7/merge joins c1 and f2, refs/pull/7/head is f2."""
    keys = {
        "base": plant_key("openai.project-key", 1),
        "crit": plant_key("anthropic.admin-key", 2),
        "high": plant_key("openai.project-key", 3),
    }
    b = RepoBuilder(tmp_path / "origin")
    c: dict[str, str] = {}
    c["c0"] = str(b.commit({"README.md": b"app\n", "old/.env": keys["base"].line("OPENAI_API_KEY")}))
    c["c1"] = str(b.commit({"README.md": b"app v2\n"}))
    c["f1"] = str(
        b.commit(
            {"app/.env": keys["crit"].line("ANTHROPIC_ADMIN_KEY")},
            ref="refs/heads/feature",
            parents=[pygit2.Oid(hex=c["c1"])],
        )
    )
    c["f2"] = str(
        b.commit(
            {"src/client.py": b"KEY = '" + keys["high"].secret.encode() + b"'\n"}, ref="refs/heads/feature"
        )
    )
    b.repo.references.create("refs/pull/7/head", pygit2.Oid(hex=c["f2"]))
    runner, c["merge"] = pull_request_job(b, tmp_path, 7, c["c1"], c["f2"], "Merge f2 into c1")
    return runner, c, keys


def test_pull_request_scans_base_to_head(pr_repo: tuple[Runner, dict[str, str], dict[str, Planted]]) -> None:
    runner, c, keys = pr_repo
    # the workspace trips libgit2's owner check, which keysweep turns off for its read-only scan
    assert runner.workspace.stat().st_uid == 1001
    probe = subprocess.run(
        [sys.executable, "-c", "import pygit2, sys; pygit2.Repository(sys.argv[1])", str(runner.workspace)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode != 0 and "not owned by current user" in probe.stderr
    payload = pull_request_payload(7, base=c["c1"], head=c["f2"], before=c["f1"])
    r = run_entrypoint(runner, "pull_request", payload, c["merge"], "refs/pull/7/merge", keys)
    assert f"keysweep: pull request #7: base..head {c['c1'][:12]}..{c['f2'][:12]}\n" in r.stdout
    assert "keysweep: range: 2 commits\n" in r.stdout
    assert r.code == 1, r.stderr
    assert r.outputs == {
        "sarif-file": "keysweep.sarif",
        "findings": "2",
        "critical": "1",
        "high": "1",
        "status": "ok",
    }
    # the SARIF file is the merge commit's tree: the base's old key too, which the range does not gate on
    assert r.run["automationDetails"] == {"id": "keysweep/tree/"}
    assert r.run["invocations"][0]["executionSuccessful"] is True
    assert r.digests() == {
        secret_digest(keys["base"]),
        secret_digest(keys["crit"]),
        secret_digest(keys["high"]),
    }
    assert (
        "keysweep/tree, status ok" in r.stdout
        and "exit 1: findings at or above high in the range" in r.stdout
    )


def test_pull_request_without_shas_falls_back_to_the_merge_parents(
    pr_repo: tuple[Runner, dict[str, str], dict[str, Planted]],
) -> None:
    runner, c, keys = pr_repo
    payload = pull_request_payload(7, base=None, head=None)  # as for some fork and merged-PR events
    r = run_entrypoint(
        runner, "pull_request", payload, c["merge"], "refs/pull/7/merge", keys, inputs={"fail-on": "critical"}
    )
    assert f"keysweep: pull request #7: HEAD^1..HEAD^2 {c['c1'][:12]}..{c['f2'][:12]}\n" in r.stdout
    assert "note: falling back to the merge commit's parents HEAD^1..HEAD^2" in r.stdout
    assert r.code == 1  # the critical key is in the range
    assert r.outputs["findings"] == "2" and r.outputs["critical"] == "1"
    assert r.run["automationDetails"]["id"] == "keysweep/tree/"


def test_pull_request_target_without_the_head_is_exit_3(
    pr_repo: tuple[Runner, dict[str, str], dict[str, Planted]],
) -> None:
    runner, c, keys = pr_repo
    chown_tree(runner.workspace, 0, 0)  # this process keeps libgit2's owner check
    repo = pygit2.Repository(str(runner.workspace))
    base_tip = repo.references["refs/remotes/origin/main"].peel(pygit2.Commit)
    repo.checkout_tree(base_tip, strategy=pygit2.enums.CheckoutStrategy.FORCE)
    repo.set_head(base_tip.id)  # pull_request_target checks out the base branch
    chown_tree(runner.workspace)
    payload = pull_request_payload(7, base=c["c1"], head="ab" * 20)
    r = run_entrypoint(runner, "pull_request_target", payload, c["c1"], "refs/heads/main", keys)
    assert r.code == 3
    assert f"the head commit {'ab' * 20} is not in this clone" in r.stderr
    assert "`ref: refs/pull/7/merge` and `fetch-depth: 0`" in r.stderr
    assert r.outputs["status"] == "failed"
    assert r.run["invocations"][0]["executionSuccessful"] is False and r.run["results"] == []


@pytest.fixture
def push_repo(tmp_path: Path) -> tuple[Runner, dict[str, str], dict[str, Planted]]:
    """main: c0 (key) → c1 → c2 (new key); other from c1: o1 (key); feature from o1: f1 (key)."""
    keys = {k: plant_key("openai.project-key", 10 + i) for i, k in enumerate(("c0", "c2", "o1", "f1"))}
    b = RepoBuilder(tmp_path / "origin")
    c: dict[str, str] = {}
    c["c0"] = str(b.commit({"README.md": b"app\n", "conf/.env": keys["c0"].line()}))
    c["c1"] = str(b.commit({"README.md": _clean_line(1)}))
    c["c2"] = str(b.commit({"deploy.env": keys["c2"].line()}))
    c["o1"] = str(
        b.commit({"other.env": keys["o1"].line()}, ref="refs/heads/other", parents=[pygit2.Oid(hex=c["c1"])])
    )
    c["f1"] = str(
        b.commit(
            {"feature.env": keys["f1"].line()}, ref="refs/heads/feature", parents=[pygit2.Oid(hex=c["o1"])]
        )
    )
    return _runner(tmp_path), c, keys


def test_push_scans_before_to_after(push_repo: tuple[Runner, dict[str, str], dict[str, Planted]]) -> None:
    runner, c, keys = push_repo
    checkout(runner.workspace.parent.parent.parent / "origin", runner.workspace, branch="main")
    chown_tree(runner.workspace)
    r = run_entrypoint(
        runner,
        "push",
        push_payload("refs/heads/main", c["c1"], c["c2"], commits=(c["c2"],)),
        c["c2"],
        "refs/heads/main",
        keys,
    )
    assert f"keysweep: push to refs/heads/main: before..after {c['c1'][:12]}..{c['c2'][:12]}\n" in r.stdout
    assert "keysweep: range: 1 commit\n" in r.stdout
    assert r.code == 1
    assert r.outputs == {
        "sarif-file": "keysweep.sarif",
        "findings": "1",
        "critical": "0",
        "high": "1",
        "status": "ok",
    }
    assert r.run["automationDetails"]["id"] == "keysweep/tree/"
    assert r.digests() == {secret_digest(keys["c0"]), secret_digest(keys["c2"])}  # main's tree


def test_a_clean_push_passes_though_the_tree_holds_a_key(
    push_repo: tuple[Runner, dict[str, str], dict[str, Planted]],
) -> None:
    runner, c, keys = push_repo
    origin = runner.workspace.parent.parent.parent / "origin"
    b = pygit2.Repository(str(origin))
    b.references["refs/heads/main"].set_target(pygit2.Oid(hex=c["c1"]))  # the push of c1 alone
    checkout(origin, runner.workspace, branch="main")
    chown_tree(runner.workspace)
    r = run_entrypoint(
        runner, "push", push_payload("refs/heads/main", c["c0"], c["c1"]), c["c1"], "refs/heads/main", keys
    )
    assert f"before..after {c['c0'][:12]}..{c['c1'][:12]}" in r.stdout
    assert r.code == 0, r.stdout + r.stderr  # the range decides the exit code ...
    assert r.outputs["findings"] == "0" and r.outputs["status"] == "ok"
    assert r.digests() == {secret_digest(keys["c0"])}  # ... while the SARIF file shows the tree's old key
    assert "exit 0: no finding at or above high in the range" in r.stdout


def test_new_branch_scans_what_the_default_branch_does_not_hold(
    push_repo: tuple[Runner, dict[str, str], dict[str, Planted]],
) -> None:
    """A new branch off `other` (itself off main): main's commits (c0's key) are not scanned again;
    `other`'s are, since the clone cannot tell whether `other` existed before this push."""
    runner, c, keys = push_repo
    checkout(runner.workspace.parent.parent.parent / "origin", runner.workspace, branch="feature")
    chown_tree(runner.workspace)
    r = run_entrypoint(
        runner, "push", push_payload("refs/heads/feature", ZERO, c["f1"]), c["f1"], "refs/heads/feature", keys
    )
    assert (
        f"keysweep: push to refs/heads/feature (new ref): the commits of {c['f1'][:12]} not on the "
        "default branch main\n"
    ) in r.stdout
    assert f"range {c['f1']} ^{c['c2']} at" in r.stdout  # origin/main only
    assert "keysweep: range: 2 commits\n" in r.stdout
    assert r.code == 1
    assert r.outputs["findings"] == "2" and r.outputs["high"] == "2"  # o1's and f1's keys, not c0's
    assert r.digests() == {secret_digest(keys[k]) for k in ("c0", "o1", "f1")}


def test_forced_push_with_before_gone(tmp_path: Path) -> None:
    keys = {k: plant_key("openai.project-key", 20 + i) for i, k in enumerate(("c0", "x1", "y1"))}
    b = RepoBuilder(tmp_path / "origin")
    c0 = b.commit({"conf/.env": keys["c0"].line()})
    c1 = b.commit({"README.md": _clean_line(1)})
    x1 = b.commit({"old.env": keys["x1"].line()}, ref="refs/heads/feature", parents=[c1])
    y1 = b.commit({"new.env": keys["y1"].line()}, ref="refs/heads/feature", parents=[c1])  # forced over x1
    runner = _runner(tmp_path)
    repo = checkout(tmp_path / "origin", runner.workspace, branch="feature")
    assert repo.get(x1) is None  # the old tip never reached this clone
    chown_tree(runner.workspace)
    payload = push_payload("refs/heads/feature", str(x1), str(y1), forced=True)
    r = run_entrypoint(runner, "push", payload, str(y1), "refs/heads/feature", keys)
    assert (
        f"keysweep: push to refs/heads/feature (forced): the commits of {str(y1)[:12]} not on the "
        "default branch main\n"
    ) in r.stdout
    assert f"note: forced push: the previous tip {x1} is gone from this clone" in r.stdout
    assert f"range {y1} ^{c1} at" in r.stdout
    assert r.code == 1
    assert r.outputs["findings"] == "1" and r.outputs["status"] == "ok"
    assert r.digests() == {secret_digest(keys["c0"]), secret_digest(keys["y1"])}
    del c0
    # the same push, not forced: a `before` that is gone means history is missing, never a pass
    r = run_entrypoint(
        runner,
        "push",
        push_payload("refs/heads/feature", str(x1), str(y1)),
        str(y1),
        "refs/heads/feature",
        keys,
    )
    assert r.code == 3
    assert f"the previous tip {x1} is not in this clone" in r.stderr and "fetch-depth: 0" in r.stderr
    assert r.outputs == {
        "sarif-file": "keysweep.sarif",
        "findings": "",
        "critical": "",
        "high": "",
        "status": "failed",
    }
    assert r.run["automationDetails"]["id"] == "keysweep/tree/"
    assert r.run["invocations"][0]["executionSuccessful"] is False and r.run["results"] == []


@needs_git
def test_shallow_clone_is_exit_3_naming_fetch_depth(tmp_path: Path) -> None:
    keys = {"k": plant_key("openai.project-key", 30)}
    b = RepoBuilder(tmp_path / "origin")
    commits = [b.commit({"README.md": _clean_line(i)}) for i in range(3)]
    commits.append(b.commit({"app.env": keys["k"].line()}))
    runner = _runner(tmp_path)
    runner.workspace.parent.mkdir(parents=True)
    assert GIT is not None
    subprocess.run(
        [GIT, "clone", "-q", "--depth=1", f"file://{tmp_path / 'origin'}", str(runner.workspace)],
        check=True,
        capture_output=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    chown_tree(runner.workspace)
    head = str(commits[-1])
    r = run_entrypoint(
        runner, "push", push_payload("refs/heads/main", str(commits[-2]), head), head, "refs/heads/main", keys
    )
    assert r.code == 3
    assert "the clone is shallow" in r.stderr and "fetch-depth: 0" in r.stderr
    assert r.outputs["status"] == "failed" and r.outputs["findings"] == ""
    assert r.run["invocations"][0]["executionSuccessful"] is False
    r = run_entrypoint(runner, "schedule", schedule_payload(), head, "refs/heads/main", keys)
    assert r.code == 3 and "fetch-depth: 0" in r.stderr
    assert r.run["automationDetails"]["id"] == "keysweep/history/"  # a failed sweep, in its own category
    # mode tree needs no history: the shallow checkout is fine
    r = run_entrypoint(
        runner,
        "push",
        push_payload("refs/heads/main", str(commits[-2]), head),
        head,
        "refs/heads/main",
        keys,
        inputs={"mode": "tree"},
    )
    assert r.code == 1 and r.outputs["findings"] == "1" and r.outputs["status"] == "ok"


@pytest.fixture
def swept_repo(tmp_path: Path) -> tuple[Runner, dict[str, str], dict[str, Planted]]:
    """main: c0 adds a key, c1 removes it (history only); other: a key on another branch."""
    keys = {"gone": plant_key("openai.project-key", 40), "other": plant_key("github.pat", 41)}
    b = RepoBuilder(tmp_path / "origin")
    c = {"c0": str(b.commit({"README.md": b"app\n", "conf/.env": keys["gone"].line()}))}
    c["c1"] = str(b.commit({"conf/.env": b"# moved to the secret store\n"}))
    b.commit(
        {"ci.env": keys["other"].line("GITHUB_TOKEN")},
        ref="refs/heads/other",
        parents=[pygit2.Oid(hex=c["c1"])],
    )
    runner = _runner(tmp_path)
    checkout(tmp_path / "origin", runner.workspace, branch="main")
    chown_tree(runner.workspace)
    return runner, c, keys


def test_schedule_sweeps_the_whole_history(
    swept_repo: tuple[Runner, dict[str, str], dict[str, Planted]],
) -> None:
    runner, c, keys = swept_repo
    r = run_entrypoint(runner, "schedule", schedule_payload(), c["c1"], "refs/heads/main", keys)
    assert "keysweep: schedule event: the whole history\n" in r.stdout
    assert "history scan of" in r.stdout
    assert r.code == 1
    assert r.outputs == {
        "sarif-file": "keysweep.sarif",
        "findings": "2",
        "critical": "1",
        "high": "1",
        "status": "ok",
    }
    assert r.run["automationDetails"] == {"id": "keysweep/history/"}
    assert r.digests() == {secret_digest(keys["gone"]), secret_digest(keys["other"])}
    assert "SARIF (keysweep/history, status ok) written to keysweep.sarif" in r.stdout


def test_workflow_dispatch_sweeps_with_the_history_cache(
    swept_repo: tuple[Runner, dict[str, str], dict[str, Planted]],
) -> None:
    """`cache-dir: ${{ runner.temp }}/keysweep-cache`: the second sweep reuses the first one's cache
    and reports the same findings."""
    runner, c, keys = swept_repo
    cache = runner.temp / "keysweep-cache"
    inputs = {"cache-dir": str(cache)}
    payload = {"inputs": {}, "ref": "refs/heads/main", "repository": {"full_name": "octo/app"}}
    first = run_entrypoint(
        runner, "workflow_dispatch", payload, c["c1"], "refs/heads/main", keys, inputs=inputs
    )
    assert "keysweep: workflow_dispatch event: the whole history\n" in first.stdout
    files = sorted(p.name for p in cache.iterdir())
    assert files and all(not name.startswith(".") for name in files)
    again = run_entrypoint(
        runner, "workflow_dispatch", payload, c["c1"], "refs/heads/main", keys, inputs=inputs
    )
    assert first.code == again.code == 1
    assert first.digests() == again.digests() == {secret_digest(keys["gone"]), secret_digest(keys["other"])}
    assert again.outputs == first.outputs and again.run["automationDetails"]["id"] == "keysweep/history/"


def test_custom_sarif_file_reaches_keysweep_through_bash(
    swept_repo: tuple[Runner, dict[str, str], dict[str, Planted]], tmp_path: Path
) -> None:
    """INPUT_SARIF-FILE has a hyphen: bash passes it on, dash would drop it (then the default wins)."""
    runner, c, keys = swept_repo
    inputs = {"sarif-file": "reports/keysweep-nightly.sarif", "fail-on": "none"}
    r = run_entrypoint(
        runner, "schedule", schedule_payload(), c["c1"], "refs/heads/main", keys, inputs=inputs
    )
    assert r.code == 0
    assert r.outputs["sarif-file"] == "reports/keysweep-nightly.sarif"
    assert (runner.workspace / "reports" / "keysweep-nightly.sarif").is_file()
    assert not (runner.workspace / "keysweep.sarif").exists()
    dash = shutil.which("dash")
    if dash is not None:  # the control: the same entry point under dash loses the input
        as_sh = tmp_path / "entrypoint-sh"
        text = ENTRYPOINT.read_text().replace("#!/bin/bash", f"#!{dash}", 1)
        as_sh.write_text(text.replace("set -euo pipefail", "set -eu"))  # dash has no pipefail
        as_sh.chmod(0o755)
        r = run_entrypoint(
            runner,
            "schedule",
            schedule_payload(),
            c["c1"],
            "refs/heads/main",
            keys,
            inputs=inputs,
            entrypoint=as_sh,
        )
        assert r.outputs["sarif-file"] == "keysweep.sarif"  # INPUT_SARIF-FILE never arrived
        assert r.code == 1  # nor did INPUT_FAIL-ON: the default threshold (high) applied


@needs_git
def test_strict_fails_an_incomplete_sweep(tmp_path: Path) -> None:
    """A partial clone (`filter: blob:none`) lacks old blobs: strict (the default) is exit 3 with a
    failed SARIF; strict off is the findings' exit code, with status incomplete."""
    keys = {"old": plant_key("openai.project-key", 50), "head": plant_key("openai.project-key", 51)}
    b = RepoBuilder(tmp_path / "origin")
    b.commit({"conf/.env": keys["old"].line()})
    b.commit({"conf/.env": b"# rotated\n"})
    head = str(b.commit({"app.env": keys["head"].line()}))
    assert GIT is not None
    git_env = {**os.environ, "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(
        [GIT, "-C", str(tmp_path / "origin"), "config", "uploadpack.allowFilter", "true"], check=True
    )
    runner = _runner(tmp_path)
    runner.workspace.parent.mkdir(parents=True)
    subprocess.run(
        [GIT, "clone", "-q", "--filter=blob:none", f"file://{tmp_path / 'origin'}", str(runner.workspace)],
        check=True,
        capture_output=True,
        env=git_env,
    )
    chown_tree(runner.workspace)
    r = run_entrypoint(runner, "schedule", schedule_payload(), head, "refs/heads/main", keys)
    assert r.code == 3
    assert "exit 3: the scan failed (the scan is incomplete (" in r.stdout and "missing-object" in r.stdout
    assert r.outputs["status"] == "failed" and r.outputs["findings"] == ""  # no count of a failed gate
    assert r.run["invocations"][0]["executionSuccessful"] is False and r.run["results"] == []
    r = run_entrypoint(
        runner, "schedule", schedule_payload(), head, "refs/heads/main", keys, inputs={"strict": "false"}
    )
    assert r.code == 1
    assert r.outputs["status"] == "incomplete" and r.outputs["findings"] == "1"
    assert r.run["invocations"][0]["executionSuccessful"] is True
    assert r.run["properties"]["keysweep/complete"] is False
    assert r.digests() == {secret_digest(keys["head"])}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("fail-on", "--help", "input `fail-on` must not start with '-'"),
        ("path", "-rf", "input `path` must not start with '-'"),
        ("sarif-file", "-", "input `sarif-file` must not start with '-'"),
        ("mode", "everything", "input `mode` must be auto | pr | push | full | tree"),
        ("strict", "yes", "input `strict` must be true or false"),
        ("fail-on", "severe", "input `fail-on` must be none | low | medium | high | critical"),
    ],
)
def test_bad_inputs_are_exit_2(
    swept_repo: tuple[Runner, dict[str, str], dict[str, Planted]], name: str, value: str, message: str
) -> None:
    runner, c, keys = swept_repo
    r = run_entrypoint(
        runner, "schedule", schedule_payload(), c["c1"], "refs/heads/main", keys, inputs={name: value}
    )
    assert r.code == 2
    assert message in r.stderr
    assert r.outputs == {"status": "failed"}
    assert not r.sarif_path.exists() or r.sarif_path.name != "-"


def test_the_leak_check_would_catch_a_leak() -> None:
    planted = {"k": plant_key("openai.project-key", 99)}
    secret = planted["k"].secret
    assert len(planted["k"].windows) > 100
    assert_no_leak(planted, {"redacted": f"sk-proj-…{secret[-4:]} (164)"})  # the preview is allowed
    for leaked in (secret, secret[30:40], json.dumps({"v": secret[10:]})):
        with pytest.raises(AssertionError, match="shows part of planted secret"):
            assert_no_leak(planted, {"log": f"value: {leaked}"})


def test_a_plain_directory_needs_mode_tree(tmp_path: Path) -> None:
    keys = {"k": plant_key("openai.project-key", 60)}
    runner = _runner(tmp_path)
    runner.workspace.mkdir(parents=True)
    (runner.workspace / "settings.env").write_bytes(keys["k"].line())
    chown_tree(runner.workspace)
    r = run_entrypoint(
        runner, "push", push_payload("refs/heads/main", "b" * 40, "c" * 40), "c" * 40, "refs/heads/main", keys
    )
    assert r.code == 3 and "is not in a git repository" in r.stderr and "fetch-depth: 0" in r.stderr
    assert r.outputs["status"] == "failed"
    r = run_entrypoint(runner, "push", {}, "c" * 40, "refs/heads/main", keys, inputs={"mode": "tree"})
    assert "keysweep: mode tree: a plain directory (no git repository)\n" in r.stdout
    assert r.code == 1 and r.outputs["findings"] == "1" and r.outputs["status"] == "ok"
    assert r.run["automationDetails"]["id"] == "keysweep/tree/" and r.digests() == {secret_digest(keys["k"])}


ALLOW_FIXTURES = b'fail-on = "critical"\n[[allow]]\npaths = ["fixtures/"]\nreason = "test fixtures"\n'


def test_a_pull_request_that_allowlists_its_own_key_still_fails(tmp_path: Path) -> None:
    runner, c, keys = config_pr(tmp_path, None, ALLOW_ALL)
    payload = pull_request_payload(8, base=c["c0"], head=c["f1"])
    r = run_entrypoint(runner, "pull_request", payload, c["merge"], "refs/pull/8/merge", keys)
    assert r.code == 1, r.stdout + r.stderr
    assert "note: this change edits .keysweep.toml; the scan uses the trusted commit's version" in r.stdout
    assert r.outputs["findings"] == "2" and r.outputs["critical"] == "1"


def test_the_base_commits_config_is_applied(tmp_path: Path) -> None:
    # the base allowlists fixtures/ and fails only on critical; the change leaves the config alone
    runner, c, keys = config_pr(tmp_path, ALLOW_FIXTURES, None)
    payload = pull_request_payload(8, base=c["c0"], head=c["f1"])
    r = run_entrypoint(runner, "pull_request", payload, c["merge"], "refs/pull/8/merge", keys)
    assert r.code == 1, r.stdout + r.stderr
    assert f"config and baseline as commit {c['c0'][:12]} has them" in r.stdout
    assert r.outputs["findings"] == "1" and r.outputs["critical"] == "1"  # fixtures/ suppressed
    assert "this change edits" not in r.stdout
    # an explicit fail-on input wins over the config's
    r = run_entrypoint(
        runner, "pull_request", payload, c["merge"], "refs/pull/8/merge", keys, inputs={"fail-on": "none"}
    )
    assert r.code == 0, r.stdout + r.stderr


def test_the_bundles_input_reads_build_output_as_client_bundles(
    pr_repo: tuple[Runner, dict[str, str], dict[str, Planted]],
) -> None:
    runner, c, keys = pr_repo
    shipped = plant_key("openai.project-key", 9)
    built = runner.workspace / "web" / "dist" / "assets"
    built.mkdir(parents=True)
    (built / "index-4f9a1c2e.js").write_bytes(
        b'(()=>{const e=new t({apiKey:"' + shipped.secret.encode() + b'",dangerouslyAllowBrowser:!0});})();\n'
    )
    chown_tree(runner.workspace)
    planted = {**keys, "shipped": shipped}
    payload = pull_request_payload(7, base=c["c1"], head=c["f2"])
    r = run_entrypoint(
        runner,
        "pull_request",
        payload,
        c["merge"],
        "refs/pull/7/merge",
        planted,
        inputs={"bundles": "web/dist"},
    )
    assert r.code == 1, r.stderr
    bundle_results = [
        res
        for res in r.run["results"]
        if res["properties"].get("keysweep/secret_sha256") == secret_digest(shipped)
    ]
    assert len(bundle_results) == 1
    assert bundle_results[0]["properties"]["keysweep/exposure"] == "client-bundle"
    assert bundle_results[0]["properties"]["keysweep/severity"] == "critical"
    bad = run_entrypoint(
        runner,
        "pull_request",
        payload,
        c["merge"],
        "refs/pull/7/merge",
        planted,
        inputs={"bundles": "web/nope"},
    )
    assert bad.code == 2 and "input `bundles`" in bad.stderr
    dash = run_entrypoint(
        runner,
        "pull_request",
        payload,
        c["merge"],
        "refs/pull/7/merge",
        planted,
        inputs={"bundles": "web/dist\n--all"},
    )
    assert dash.code == 2
