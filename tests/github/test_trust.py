"""What the action gates and whose config it trusts, end to end through `entrypoint.sh`, for the
runs that used to scan the wrong thing: a pull_request_target job on a base branch whose tip is an
earlier merge, `mode: tree`/`full` and unlisted events on a pull request, a push creating a branch
that brings its own config, and one commit pushed as two new branches at once."""

from __future__ import annotations

from pathlib import Path

import pygit2

from tests.action_runner import (
    ZERO,
    Planted,
    Runner,
    checkout,
    chown_tree,
    plant_key,
    pull_request_job,
    pull_request_payload,
    push_payload,
    run_entrypoint,
    secret_digest,
)
from tests.action_scenarios import ALLOW_ALL, config_pr
from tests.repo_builder import RepoBuilder


def _runner(tmp_path: Path) -> Runner:
    return Runner(workspace=tmp_path / "work" / "app" / "app", temp=tmp_path / "work" / "_temp")


def test_pull_request_target_never_scans_the_base_branchs_own_merge(tmp_path: Path) -> None:
    """main's tip is the merge of an earlier, harmless pull request; the new pull request's head
    (a key) never reached the clone (a pull_request_target job checks out the base branch). The
    run must not gate on main's merge and pass: it is exit 3 naming the head and the fix."""
    keys = {"new": plant_key("openai.project-key", 70)}
    b = RepoBuilder(tmp_path / "origin")
    c0 = b.commit({"README.md": b"app\n"})
    x1 = b.commit({"docs.md": b"harmless\n"}, ref="refs/heads/earlier", parents=[c0])
    merged = b.commit(None, parents=[c0, x1], base=x1, message="Merge pull request #8")
    # the new pull request's head lives in a fork, which the checkout of main never fetches
    h1 = RepoBuilder(tmp_path / "fork").commit({"app.env": keys["new"].line()})
    runner = _runner(tmp_path)
    repo = checkout(tmp_path / "origin", runner.workspace, branch="main")
    assert repo.get(h1) is None and len(repo.head.peel(pygit2.Commit).parents) == 2
    chown_tree(runner.workspace)
    payload = pull_request_payload(9, base=str(merged), head=str(h1))
    r = run_entrypoint(runner, "pull_request_target", payload, str(merged), "refs/heads/main", keys)
    assert r.code == 3, r.stdout + r.stderr
    assert f"pull request #9: the head commit {h1} is not in this clone" in r.stderr
    assert "actions/checkout with `ref: refs/pull/9/merge` and `fetch-depth: 0`" in r.stderr
    assert "HEAD^1..HEAD^2" not in r.stdout
    assert r.outputs["status"] == "failed" and r.outputs["findings"] == ""
    # the payload names no commits at all (as for some fork events): main's merge is still not it
    bare = pull_request_payload(9, base=None, head=None)
    r = run_entrypoint(runner, "pull_request_target", bare, str(merged), "refs/heads/main", keys)
    assert r.code == 3 and "HEAD is not the pull request's merge commit (refs/pull/9/merge)" in r.stderr


def test_tree_and_full_modes_on_a_pull_request_trust_the_base(tmp_path: Path) -> None:
    """`mode: tree` and `mode: full` scan the merge commit, but take the config from the base: the
    pull request's own `.keysweep.toml`, which allowlists everything, is not believed."""
    runner, c, keys = config_pr(tmp_path, None, ALLOW_ALL)
    payload = pull_request_payload(8, base=c["c0"], head=c["f1"])
    for mode in ("tree", "full"):
        r = run_entrypoint(
            runner, "pull_request", payload, c["merge"], "refs/pull/8/merge", keys, inputs={"mode": mode}
        )
        assert r.code == 1, (mode, r.stdout + r.stderr)
        assert (
            f"config and baseline as commit {c['c0'][:12]} has them (the pull request's base): it has "
            "no .keysweep.toml: built-in defaults"
        ) in r.stdout
        assert (
            "note: this change edits .keysweep.toml; the scan uses the trusted commit's version" in r.stdout
        )
        assert r.outputs["critical"] == "1"
    # an event the planner does not list sweeps the history, with the base's config too
    r = run_entrypoint(
        runner,
        "pull_request_review",
        payload | {"action": "submitted"},
        c["merge"],
        "refs/pull/8/merge",
        keys,
    )
    assert "pull_request_review event has no commit range: the whole history" in r.stdout
    assert f"as commit {c['c0'][:12]} has them (the pull request's base)" in r.stdout
    assert r.code == 1, r.stdout + r.stderr


def _new_branch_repo(tmp_path: Path) -> tuple[RepoBuilder, dict[str, pygit2.Oid], dict[str, Planted]]:
    """main: c0 (a key, long known) → c1; feature from c1: f1 adds a key and a config that
    allowlists everything."""
    keys = {"old": plant_key("openai.project-key", 71), "new": plant_key("anthropic.admin-key", 72)}
    b = RepoBuilder(tmp_path / "origin")
    c = {"c0": b.commit({"README.md": b"app\n", "conf/.env": keys["old"].line()})}
    c["c1"] = b.commit({"README.md": b"app v2\n"})
    c["f1"] = b.commit(
        {".keysweep.toml": ALLOW_ALL, "app/.env": keys["new"].line("ANTHROPIC_ADMIN_KEY")},
        ref="refs/heads/feature",
        parents=[c["c1"]],
    )
    return b, c, keys


def test_a_new_branch_cannot_disable_its_own_scan(tmp_path: Path) -> None:
    _, c, keys = _new_branch_repo(tmp_path)
    runner = _runner(tmp_path)
    checkout(tmp_path / "origin", runner.workspace, branch="feature")
    chown_tree(runner.workspace)
    f1 = str(c["f1"])
    payload = push_payload("refs/heads/feature", ZERO, f1)
    r = run_entrypoint(runner, "push", payload, f1, "refs/heads/feature", keys)
    assert r.code == 1, r.stdout + r.stderr
    assert (
        f"config and baseline as commit {str(c['c1'])[:12]} has them (a new ref has no previous tip; "
        "the default branch main's tip): it has no .keysweep.toml: built-in defaults"
    ) in r.stdout
    assert "keysweep: range: 1 commit\n" in r.stdout  # main's commits (c0's key) are not scanned again
    assert r.outputs["findings"] == "1" and r.outputs["critical"] == "1"
    assert secret_digest(keys["old"]) in r.digests()  # the tree still shows it to code scanning
    # no default branch in the payload: the built-in defaults, said so, and the whole branch scanned
    payload["repository"] = {"full_name": "octo/app"}
    r = run_entrypoint(runner, "push", payload, f1, "refs/heads/feature", keys)
    assert r.code == 1, r.stdout + r.stderr
    assert (
        "config and baseline: built-in defaults (a new ref has no previous tip; the event payload "
        "names no default branch: built-in defaults apply)"
    ) in r.stdout
    assert "every commit of the pushed ref is scanned" in r.stdout
    assert "keysweep: range: 3 commits\n" in r.stdout and r.outputs["findings"] == "2"


def test_one_commit_pushed_as_two_new_branches_is_scanned_by_both(tmp_path: Path) -> None:
    """`git push origin HEAD:a HEAD:b`: each run's clone holds the other new branch at the same
    commit; neither run may exclude it and pass with 0 commits."""
    keys = {"k": plant_key("openai.project-key", 73)}
    b = RepoBuilder(tmp_path / "origin")
    c0 = b.commit({"README.md": b"app\n"})
    x1 = b.commit({"app.env": keys["k"].line()}, ref="refs/heads/a", parents=[c0])
    b.repo.references.create("refs/heads/b", x1)
    for name in ("a", "b"):
        runner = _runner(tmp_path / name)
        checkout(tmp_path / "origin", runner.workspace, branch=name)
        chown_tree(runner.workspace)
        ref = f"refs/heads/{name}"
        r = run_entrypoint(runner, "push", push_payload(ref, ZERO, str(x1)), str(x1), ref, keys)
        assert f"range {x1} ^{c0} at" in r.stdout
        assert "keysweep: range: 1 commit\n" in r.stdout, r.stdout
        assert r.code == 1 and r.outputs["findings"] == "1"


def test_a_pull_request_job_names_its_trusted_commit(tmp_path: Path) -> None:
    """The control for the merge fallback: GitHub's own merge of this pull request is still used
    when the payload names no commits."""
    keys = {"k": plant_key("openai.project-key", 74)}
    b = RepoBuilder(tmp_path / "origin")
    c0 = b.commit({"README.md": b"app\n"})
    f1 = b.commit({"app.env": keys["k"].line()}, ref="refs/heads/feature", parents=[c0])
    runner, merge = pull_request_job(b, tmp_path, 5, c0, f1)
    r = run_entrypoint(
        runner, "pull_request", pull_request_payload(5, None, None), merge, "refs/pull/5/merge", keys
    )
    assert f"pull request #5: HEAD^1..HEAD^2 {str(c0)[:12]}..{str(f1)[:12]}" in r.stdout
    assert f"as commit {str(c0)[:12]} has them (the merge commit's first parent (the base))" in r.stdout
    assert r.code == 1
