"""What each event scans (scanner.github.event), on a described clone: the cases the end-to-end
tests do not build a repository for, and the payload values that must never reach a revision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scanner.errors import ScanError, UsageError
from scanner.github.event import Mode, Plan, Scope, plan, sarif_mode_for
from tests.action_runner import ZERO, parse_outputs, pull_request_payload, push_payload, schedule_payload

A, B, C, D, M = ("a" * 40, "b" * 40, "c" * 40, "d" * 40, "e" * 40)


@dataclass(frozen=True)
class FakeClone:
    commits: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id -> parents
    tips: tuple[tuple[str, str], ...] = ()
    checked_out: str | None = None
    shallow: bool = False

    def head(self) -> str | None:
        return self.checked_out

    def has_commit(self, sha: str) -> bool:
        return sha in self.commits

    def parents(self, sha: str) -> tuple[str, ...]:
        return self.commits.get(sha, ())

    def branch_tips(self) -> Sequence[tuple[str, str]]:
        return self.tips


CLONE = FakeClone(
    commits={A: (), B: (A,), C: (B,), D: (A,), M: (B, C)},
    tips=(
        ("refs/heads/feature", C),
        ("refs/remotes/origin/HEAD", B),
        ("refs/remotes/origin/feature", C),
        ("refs/remotes/origin/main", B),
        ("refs/remotes/origin/release/1.x", D),
    ),
    checked_out=M,
)


def test_pull_request_uses_the_payload_then_the_merge_parents() -> None:
    got = plan(Mode.AUTO, "pull_request", pull_request_payload(3, A, C), "refs/pull/3/merge", CLONE)
    assert got == Plan(
        Scope.RANGE,
        f"pull request #3: base..head {A[:12]}..{C[:12]}",
        f"{A}..{C}",
        trusted=A,
        trust="the pull request's base",
    )
    # the base is missing, the head is HEAD's second parent: HEAD is shown to be its merge
    got = plan(Mode.AUTO, "pull_request", pull_request_payload(3, "f" * 40, C), "refs/pull/3/merge", CLONE)
    assert got.range_expr == f"{B}..{C}"
    assert got.trusted == B  # the config is the base's, never the change's
    assert got.notes == (
        f"the payload's base commit {'f' * 40} is not in this clone",
        "falling back to the merge commit's parents HEAD^1..HEAD^2",
    )
    assert plan(Mode.PR, "push", {}, "refs/heads/x", CLONE).range_expr == f"{B}..{C}"


def test_the_merge_fallback_needs_the_pull_requests_own_merge() -> None:
    """HEAD^1..HEAD^2 only when HEAD is this pull request's merge: never an unrelated merge
    (a `pull_request_target` job has the base branch checked out, whose tip may be the merge of an
    earlier pull request)."""
    # the head is not in the clone: exit 3 naming it and the checkout that fixes it
    with pytest.raises(
        ScanError, match=rf"#3: the head commit {'f' * 40} is not in this clone.*ref: refs/pull/3/merge"
    ):
        plan(Mode.AUTO, "pull_request_target", pull_request_payload(3, B, "f" * 40), "refs/heads/main", CLONE)
    with pytest.raises(ScanError, match=rf"the head commit {'f' * 40} is not in this clone.*fetch-depth: 0"):
        plan(
            Mode.AUTO, "pull_request", pull_request_payload(3, "f" * 40, "f" * 40), "refs/pull/3/merge", CLONE
        )
    # the base is missing and HEAD (M = B + C) is not a merge of the payload's head D
    with pytest.raises(ScanError, match=r"base commit f{40} is not in this clone, and HEAD is not a merge"):
        plan(Mode.AUTO, "pull_request", pull_request_payload(3, "f" * 40, D), "refs/pull/3/merge", CLONE)
    # no commits in the payload: HEAD must be GITHUB_SHA of the merge ref's run, or that ref's tip
    bare = pull_request_payload(3, None, None)
    ok = plan(Mode.AUTO, "pull_request", bare, "refs/pull/3/merge", CLONE, sha=M)
    assert ok.range_expr == f"{B}..{C}" and ok.trusted == B
    fetched = FakeClone(CLONE.commits, (*CLONE.tips, ("refs/remotes/pull/3/merge", M)), checked_out=M)
    assert plan(Mode.AUTO, "pull_request_target", bare, "refs/heads/main", fetched).range_expr == f"{B}..{C}"
    for event, ref, sha, clone in (
        ("pull_request_target", "refs/heads/main", B, CLONE),  # the base branch's own merge commit
        ("pull_request", "refs/pull/3/merge", B, CLONE),  # HEAD is not GITHUB_SHA
        ("pull_request", "refs/pull/4/merge", M, CLONE),  # another pull request's merge
        ("pull_request", "refs/pull/3/merge", M, FakeClone(CLONE.commits, CLONE.tips, checked_out=C)),
    ):
        with pytest.raises(ScanError, match="HEAD is not the pull request's merge commit"):
            plan(Mode.AUTO, event, bare, ref, clone, sha=sha)


def test_pull_request_without_a_merge_to_fall_back_on() -> None:
    on_base = FakeClone(CLONE.commits, CLONE.tips, checked_out=B)
    with pytest.raises(ScanError, match=r"ref: refs/pull/3/merge.*fetch-depth: 0"):
        plan(
            Mode.AUTO, "pull_request_target", pull_request_payload(3, B, "f" * 40), "refs/heads/main", on_base
        )
    with pytest.raises(UsageError, match="mode pr needs a pull_request event"):
        plan(Mode.PR, "push", {}, "refs/heads/main", on_base)


def test_push_forms() -> None:
    ref = "refs/heads/feature"
    assert plan(Mode.AUTO, "push", push_payload(ref, B, C), ref, CLONE).range_expr == f"{B}..{C}"
    # a new branch: what the default branch (origin/main) does not hold; its config is main's
    new = plan(Mode.AUTO, "push", push_payload(ref, ZERO, C), ref, CLONE)
    assert new.range_expr == f"{C} ^{B}"
    assert "not on the default branch main" in new.reason
    assert (new.trusted, new.trust) == (B, "a new ref has no previous tip; the default branch main's tip")
    # other branches are not excluded: the clone cannot tell which existed before the push
    rel = plan(Mode.AUTO, "push", push_payload("refs/heads/release/1.x", ZERO, D), "", CLONE)
    assert rel.range_expr == f"{D} ^{B}"
    tag = plan(Mode.AUTO, "push", push_payload("refs/tags/v1", ZERO, C), "refs/tags/v1", CLONE)
    assert tag.range_expr == f"{C} ^{B}"
    forced = plan(Mode.AUTO, "push", push_payload(ref, B, C, forced=True), ref, CLONE)
    assert forced.range_expr == f"{B}..{C}" and forced.notes == (
        "forced push; its previous tip is still in this clone",
    )
    gone = plan(Mode.AUTO, "push", push_payload(ref, "f" * 40, C, forced=True), ref, CLONE)
    assert gone.range_expr == f"{C} ^{B}" and "is gone from this clone" in gone.notes[0]
    assert gone.trusted == B  # the default branch's tip, not the rewritten branch
    with pytest.raises(ScanError, match=r"previous tip f{40} is not in this clone.*fetch-depth: 0"):
        plan(Mode.AUTO, "push", push_payload(ref, "f" * 40, C), ref, CLONE)
    with pytest.raises(ScanError, match="the pushed commit"):
        plan(Mode.AUTO, "push", push_payload(ref, B, "f" * 40), ref, CLONE)


def test_deleted_branch_scans_no_range() -> None:
    payload = push_payload("refs/heads/gone", C, ZERO) | {"deleted": True}
    got = plan(Mode.AUTO, "push", payload, "refs/heads/main", CLONE)
    assert got.scope is Scope.NOTHING and got.range_expr is None


def test_merge_group_is_like_push() -> None:
    payload = {
        "action": "checks_requested",
        "merge_group": {"base_sha": B, "head_sha": C, "head_ref": "refs/heads/gh-readonly-queue/main/pr-3"},
    }
    got = plan(Mode.AUTO, "merge_group", payload, "refs/heads/gh-readonly-queue/main/pr-3", CLONE)
    assert got.range_expr == f"{B}..{C}" and got.reason.startswith(
        "merge group to refs/heads/gh-readonly-queue"
    )


@pytest.mark.parametrize("event", ["schedule", "workflow_dispatch", "release", ""])
def test_sweeping_events(event: str) -> None:
    got = plan(Mode.AUTO, event, schedule_payload(), "refs/heads/main", CLONE)
    assert got.scope is Scope.SWEEP and got.sarif_mode == "history" and got.range_expr is None
    assert sarif_mode_for(Mode.AUTO, event) == "history"
    with pytest.raises(ScanError, match=r"shallow.*fetch-depth: 0"):
        plan(Mode.AUTO, event, {}, "refs/heads/main", FakeClone(CLONE.commits, CLONE.tips, M, shallow=True))


def test_modes_override_the_event() -> None:
    assert plan(Mode.TREE, "push", {}, "", FakeClone(shallow=True)).scope is Scope.TREE
    assert plan(Mode.FULL, "pull_request", {}, "", CLONE).scope is Scope.SWEEP
    assert sarif_mode_for(Mode.FULL, "push") == "history" and sarif_mode_for(Mode.AUTO, "push") == "tree"
    assert sarif_mode_for(Mode.TREE, "schedule") == "tree"
    with pytest.raises(UsageError, match="mode push needs"):
        plan(Mode.PUSH, "schedule", schedule_payload(), "refs/heads/main", CLONE)


@pytest.mark.parametrize(
    "hostile",
    ["--all", "HEAD~100", "main", A[:39], A.upper(), f"{A} ^{B}", f"{A}..{C}", "^" + A, A + "\n"],
)
def test_payload_values_never_become_revisions(hostile: str) -> None:
    """Only a full lower-case hex id from the payload is used; anything else counts as absent."""
    ref = "refs/heads/feature"
    with pytest.raises(ScanError, match="names no valid `before` and `after`"):
        plan(Mode.AUTO, "push", push_payload(ref, hostile, C), ref, CLONE)
    with pytest.raises(ScanError, match="names no valid `before` and `after`"):
        plan(Mode.AUTO, "push", push_payload(ref, B, hostile), ref, CLONE)
    got = plan(Mode.AUTO, "pull_request", pull_request_payload(3, hostile, C), "", CLONE)
    assert got.range_expr == f"{B}..{C}"  # the merge commit's parents, not the payload's value
    assert hostile not in (got.range_expr or "")
    payload = push_payload("refs/heads/x", ZERO, C)
    payload["repository"] = {**payload["repository"], "default_branch": hostile}
    if hostile != "main":
        got = plan(Mode.AUTO, "push", payload, "refs/heads/x", CLONE)
        assert got.range_expr == C and got.trusted is None  # no branch of that name: nothing excluded


def test_outputs_are_written_multi_line_safe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner.github import outputs as action

    tokens = iter(["0" * 32, "0" * 32, "1" * 32])
    monkeypatch.setattr(action.secrets, "token_hex", lambda n: next(tokens))
    hostile = "two\nlines\nghadelimiter_" + "0" * 32 + "\nstatus=ok"
    path = tmp_path / "out"
    action.write_outputs(path, {"note": hostile})
    assert parse_outputs(path.read_text()) == {"note": hostile}  # the colliding delimiter was not used


def test_inputs_defaults_and_names() -> None:
    from scanner.github.entry import ActionInputs, read_inputs
    from scanner.model import Severity

    assert read_inputs({}) == ActionInputs()
    assert read_inputs({"INPUT_SARIF-FILE": " ", "INPUT_STRICT": ""}) == ActionInputs()
    got = read_inputs(
        {
            "INPUT_SARIF-FILE": "out/k.sarif",
            "INPUT_FAIL-ON": "Critical",
            "INPUT_STRICT": "False",
            "INPUT_CACHE-DIR": "/github/runner_temp/ks",
            "INPUT_MODE": "full",
            "INPUT_PATH": "sub",
        }
    )
    assert got == ActionInputs(
        "sub",
        Mode.FULL,
        "out/k.sarif",
        Severity.CRITICAL,
        "/github/runner_temp/ks",
        False,
        fail_on_given=True,
    )
    assert read_inputs({"INPUT_FAIL_ON": "none"}).fail_on is Severity.HIGH  # `_` is not the runner's name


@pytest.mark.parametrize(
    ("mode", "event", "payload", "trusted", "trust"),
    [
        (Mode.TREE, "pull_request", pull_request_payload(3, A, C), A, "the pull request's base"),
        (Mode.FULL, "pull_request", pull_request_payload(3, A, C), A, "the pull request's base"),
        (Mode.AUTO, "pull_request_review", pull_request_payload(3, A, C), A, "the pull request's base"),
        (
            Mode.AUTO,
            "pull_request_review_comment",
            pull_request_payload(3, A, C),
            A,
            "the pull request's base",
        ),
        (
            Mode.TREE,
            "pull_request",
            pull_request_payload(3, "f" * 40, C),
            B,
            f"the pull request's base {'f' * 40} is not in this clone; the default branch main's tip",
        ),
        (Mode.AUTO, "schedule", schedule_payload(), B, "the default branch main's tip"),
        (Mode.AUTO, "workflow_dispatch", schedule_payload(), B, "the default branch main's tip"),
        (Mode.AUTO, "release", schedule_payload(), B, "the default branch main's tip"),
        (
            Mode.AUTO,
            "issue_comment",
            {"issue": {"number": 3}},
            None,
            "the event payload names no default branch: built-in defaults apply",
        ),
        (Mode.TREE, "push", push_payload("refs/heads/feature", A, C), A, "the push's previous tip"),
        (
            Mode.FULL,
            "push",
            push_payload("refs/heads/feature", ZERO, C),
            B,
            "the push has no previous tip in this clone; the default branch main's tip",
        ),
        (
            Mode.TREE,
            "push",
            push_payload("refs/heads/main", ZERO, B),
            None,
            "the push has no previous tip in this clone; this push creates the default branch main: "
            "built-in defaults apply",
        ),
    ],
)
def test_every_event_names_its_trusted_commit(
    mode: Mode, event: str, payload: dict[str, object], trusted: str | None, trust: str
) -> None:
    """Never the checked-out change (M, the merge): a trusted commit, or none and why."""
    got = plan(mode, event, payload, "refs/pull/3/merge", CLONE, sha=M)
    assert (got.trusted, got.trust) == (trusted, trust)


def test_a_new_branch_trusts_the_default_branch() -> None:
    """A push creating a branch cannot bring the config that disables its own scan: the default
    branch's tip is trusted; when the payload names none, or it is not in the clone, nothing is."""
    ref = "refs/heads/feature"
    got = plan(Mode.AUTO, "push", push_payload(ref, ZERO, C), ref, CLONE)
    assert got.trusted == B and got.trusted != C
    payload = push_payload(ref, ZERO, C)
    payload["repository"] = {"full_name": "octo/app"}
    got = plan(Mode.AUTO, "push", payload, ref, CLONE)
    assert got.trusted is None and got.range_expr == C
    assert (
        got.trust
        == "a new ref has no previous tip; the event payload names no default branch: built-in defaults apply"
    )
    assert got.notes == (
        "the event payload names no default branch: every commit of the pushed ref is scanned",
    )
    payload["repository"] = {"default_branch": "trunk"}
    got = plan(Mode.AUTO, "push", payload, ref, CLONE)
    assert got.trusted is None and "the default branch trunk is not in this clone" in got.trust
    # the local branch counts when the remote's is absent
    local = FakeClone(CLONE.commits, (("refs/heads/main", A),), checked_out=C)
    assert plan(Mode.AUTO, "push", push_payload(ref, ZERO, C), ref, local).trusted == A


def test_two_new_branches_on_one_commit_both_scan_it() -> None:
    """`git push origin X:refs/heads/a X:refs/heads/b`: each run's clone holds the other new
    branch; neither may hide the commit from the other."""
    clone = FakeClone(
        commits={A: (), B: (A,), C: (B,)},
        tips=(("refs/remotes/origin/main", A), ("refs/remotes/origin/a", C), ("refs/remotes/origin/b", C)),
        checked_out=C,
    )
    for name in ("a", "b"):
        ref = f"refs/heads/{name}"
        got = plan(Mode.AUTO, "push", push_payload(ref, ZERO, C), ref, clone)
        assert got.range_expr == f"{C} ^{A}"  # B and C: everything main does not hold
