"""What each event scans (scanner.github_event), on a described clone: the cases the end-to-end
tests do not build a repository for, and the payload values that must never reach a revision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scanner.errors import ScanError, UsageError
from scanner.github_event import Mode, Plan, Scope, plan, sarif_mode_for
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
    assert got == Plan(Scope.RANGE, f"pull request #3: base..head {A[:12]}..{C[:12]}", f"{A}..{C}", trusted=A)
    got = plan(Mode.AUTO, "pull_request", pull_request_payload(3, "f" * 40, C), "refs/pull/3/merge", CLONE)
    assert got.range_expr == f"{B}..{C}"
    assert got.trusted == B  # the config is the base's, never the change's
    assert got.notes == (
        "the payload's base commit is not in this clone",
        "falling back to the merge commit's parents HEAD^1..HEAD^2",
    )
    assert plan(Mode.PR, "push", {}, "refs/heads/x", CLONE).range_expr == f"{B}..{C}"


def test_pull_request_without_a_merge_to_fall_back_on() -> None:
    on_base = FakeClone(CLONE.commits, CLONE.tips, checked_out=B)
    with pytest.raises(ScanError, match=r"fetch-depth: 0.*refs/pull/<n>/merge"):
        plan(
            Mode.AUTO, "pull_request_target", pull_request_payload(3, B, "f" * 40), "refs/heads/main", on_base
        )
    with pytest.raises(UsageError, match="mode pr needs a pull_request event"):
        plan(Mode.PR, "push", {}, "refs/heads/main", on_base)


def test_push_forms() -> None:
    ref = "refs/heads/feature"
    assert plan(Mode.AUTO, "push", push_payload(ref, B, C), ref, CLONE).range_expr == f"{B}..{C}"
    # a new branch: every other branch's tip excluded, the pushed branch's own refs and */HEAD not
    new = plan(Mode.AUTO, "push", push_payload(ref, ZERO, C), ref, CLONE)
    assert new.range_expr == f"{C} ^{B} ^{D}"
    assert "(2 other branches)" in new.reason
    # a branch whose name has a slash is matched whole, on every remote
    rel = plan(Mode.AUTO, "push", push_payload("refs/heads/release/1.x", ZERO, D), "", CLONE)
    assert rel.range_expr == f"{D} ^{C} ^{B}"
    # a new tag hides behind no branch of its own name
    tag = plan(Mode.AUTO, "push", push_payload("refs/tags/v1", ZERO, C), "refs/tags/v1", CLONE)
    assert tag.range_expr == f"{C} ^{C} ^{B} ^{D}" and "(4 other branches)" in tag.reason
    forced = plan(Mode.AUTO, "push", push_payload(ref, B, C, forced=True), ref, CLONE)
    assert forced.range_expr == f"{B}..{C}" and forced.notes == (
        "forced push; its previous tip is still in this clone",
    )
    gone = plan(Mode.AUTO, "push", push_payload(ref, "f" * 40, C, forced=True), ref, CLONE)
    assert gone.range_expr == f"{C} ^{B} ^{D}" and "is gone from this clone" in gone.notes[0]
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


def test_outputs_are_written_multi_line_safe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner import action

    tokens = iter(["0" * 32, "0" * 32, "1" * 32])
    monkeypatch.setattr(action.secrets, "token_hex", lambda n: next(tokens))
    hostile = "two\nlines\nghadelimiter_" + "0" * 32 + "\nstatus=ok"
    path = tmp_path / "out"
    action.write_outputs(path, {"note": hostile})
    assert parse_outputs(path.read_text()) == {"note": hostile}  # the colliding delimiter was not used


def test_inputs_defaults_and_names() -> None:
    from scanner.action import ActionInputs, read_inputs
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
