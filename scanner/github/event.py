"""What a workflow run should scan, decided from its event (github.md §5, ARCHITECTURE.md §7).

Pure: the action reads the payload and hands over a view of the clone; this module only decides.
Every commit id that reaches a range expression is a validated hex id from the payload or the
clone, never a ref name or free text, so nothing a pusher controls is parsed as a revision.

The decisions, for mode `auto`:

- `pull_request`, `pull_request_target`: `base..head` from the payload. The merge commit's
  parents `HEAD^1..HEAD^2` stand in only when HEAD is shown to be this pull request's merge: its
  second parent is the payload's head (the base alone is missing), or, when the payload names no
  commits (forks, merged PRs), HEAD is `GITHUB_SHA` of a `refs/pull/<n>/merge` run or the tip of
  the clone's `refs/remotes/pull/<n>/merge`. A head that is not in the clone is exit 3 naming it:
  never the scan of whatever merge happens to be checked out (the base branch's last one).
- `push`, `merge_group`: `before..after`. A new ref (all-zero `before`) scans what `after` holds
  that the default branch does not; so does a forced push whose `before` is gone from the clone
  (and the plan says so). A non-forced `before` that is absent means a shallow or partial
  checkout: exit 3.
- `schedule`, `workflow_dispatch` and any other event: the full history sweep.

Whatever the mode, the plan names the commit whose `.keysweep.toml` and baseline the scan trusts
(`Plan.trusted`, `Plan.trust`): the base of a pull request (any event whose payload has one), the
previous tip of a push or the base of a merge group, else the default branch's tip (the payload's
`repository.default_branch`); none (built-in defaults) when that is not in the clone. Never the
checked-out change itself, which could otherwise turn its own scan off.

A shallow clone is exit 3 for every mode but `tree`, with a message naming `fetch-depth: 0`:
a range or sweep over a cut history would pass on what it never read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol, assert_never

from scanner.errors import ScanError, UsageError
from scanner.output.escape import escape_text

FETCH_DEPTH_HINT = "check out the full history (actions/checkout with `fetch-depth: 0`)"
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_PR_EVENTS = frozenset({"pull_request", "pull_request_target"})
_SWEEP_EVENTS = frozenset({"schedule", "workflow_dispatch"})


class Mode(StrEnum):
    """The action's `mode` input."""

    AUTO = "auto"
    PR = "pr"
    PUSH = "push"
    FULL = "full"
    TREE = "tree"


class Scope(StrEnum):
    """What decides the exit code: a commit range, the full sweep, the tree, or nothing at all."""

    RANGE = "range"
    SWEEP = "sweep"
    TREE = "tree"
    NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class Plan:
    scope: Scope
    reason: str  # one line for the log: what is scanned and why (escaped, safe to print)
    range_expr: str | None = None
    notes: tuple[str, ...] = ()  # further lines for the log (a forced push, a fallback)
    # whose `.keysweep.toml` and baseline the scan trusts (see the module's docstring); None: no
    # trusted commit, the built-in defaults apply. A change must not be able to turn its own scan off.
    trusted: str | None = None
    trust: str = "no trusted commit"  # for the log: why that commit (or why none)

    @property
    def sarif_mode(self) -> str:
        """The scan written as SARIF: the sweep itself on schedule, else the checked-out tree."""
        return "history" if self.scope is Scope.SWEEP else "tree"


class CloneView(Protocol):
    """The few facts about the checked-out clone that the decision needs."""

    @property
    def shallow(self) -> bool: ...

    def head(self) -> str | None:
        """The checked-out commit's id (hex), None when unborn."""
        ...

    def has_commit(self, sha: str) -> bool: ...

    def parents(self, sha: str) -> tuple[str, ...]: ...

    def branch_tips(self) -> Sequence[tuple[str, str]]:
        """(ref name, commit id) of every branch: `refs/heads/*` and `refs/remotes/*/*`."""
        ...


def plan(
    mode: Mode,
    event_name: str,
    payload: Mapping[str, Any],
    ref: str,
    clone: CloneView,
    sha: str | None = None,
) -> Plan:
    """The scan for this run; UsageError (exit 2) or ScanError (exit 3) when there is none to make.

    `ref` and `sha` are `GITHUB_REF` and `GITHUB_SHA`."""
    got = _scope(mode, event_name, payload, ref, clone, sha)
    if got.scope is Scope.RANGE:
        return got  # a range names its own trusted commit
    trusted, trust = trusted_commit(event_name, payload, ref, clone)
    return replace(got, trusted=trusted, trust=trust)


def _scope(
    mode: Mode, event_name: str, payload: Mapping[str, Any], ref: str, clone: CloneView, sha: str | None
) -> Plan:
    match mode:
        case Mode.TREE:
            return Plan(Scope.TREE, "mode tree: the checked-out commit's tree only")
        case Mode.FULL:
            return _sweep(clone, "mode full: the whole history")
        case Mode.PR:
            return _pull_request(event_name, payload, ref, sha, clone)
        case Mode.PUSH:
            return _push_or_group(event_name, payload, ref, clone)
        case Mode.AUTO:
            if event_name in _PR_EVENTS:
                return _pull_request(event_name, payload, ref, sha, clone)
            if event_name in ("push", "merge_group"):
                return _push_or_group(event_name, payload, ref, clone)
            if event_name in _SWEEP_EVENTS:
                return _sweep(clone, f"{event_name} event: the whole history")
            name = escape_text(event_name) or "(no event)"
            return _sweep(clone, f"{name} event has no commit range: the whole history")
        case _:
            assert_never(mode)


def sarif_mode_for(mode: Mode, event_name: str) -> str:
    """The SARIF a run of this mode and event writes, known before any plan (for a failed run)."""
    sweeps = mode is Mode.FULL or (
        mode is Mode.AUTO and event_name not in _PR_EVENTS and event_name not in ("push", "merge_group")
    )
    return "history" if sweeps else "tree"


def is_sha(value: object) -> bool:
    """A full lower-case hex object id, and nothing else (no newline, no revision syntax)."""
    return isinstance(value, str) and _SHA.fullmatch(value) is not None


def _sha(value: object) -> str | None:
    return value if isinstance(value, str) and is_sha(value) else None


def _dig(payload: Mapping[str, Any], *keys: str) -> object:
    node: object = payload
    for key in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _require_history(clone: CloneView, what: str) -> None:
    if clone.shallow:
        raise ScanError(f"the clone is shallow, so {what} cannot be read; {FETCH_DEPTH_HINT}")


def _sweep(clone: CloneView, reason: str) -> Plan:
    _require_history(clone, "the whole history")
    return Plan(Scope.SWEEP, reason)


def _short(sha: str) -> str:
    return sha[:12]


# --- the trusted commit -------------------------------------------------------------------------


def trusted_commit(
    event_name: str, payload: Mapping[str, Any], ref: str, clone: CloneView
) -> tuple[str | None, str]:
    """The commit whose config and baseline a scan that is not a range trusts, and why (for the
    log): a pull request's base, a push's previous tip, a merge group's base, else the default
    branch's tip; (None, why) when none of them is in the clone."""
    base = _sha(_dig(payload, "pull_request", "base", "sha"))
    if base is not None:
        if clone.has_commit(base):
            return base, "the pull request's base"
        return _default_tip(payload, clone, None, f"the pull request's base {base} is not in this clone")
    group_base = _sha(_dig(payload, "merge_group", "base_sha"))
    if group_base is not None:
        if clone.has_commit(group_base):
            return group_base, "the merge group's base"
        return _default_tip(payload, clone, None, f"the merge group's base {group_base} is not in this clone")
    pushed = payload.get("ref") or ref
    pushed_ref = pushed if isinstance(pushed, str) else ""
    if event_name == "push":
        before = _sha(payload.get("before"))
        if before is not None and set(before) != {"0"} and clone.has_commit(before):
            return before, "the push's previous tip"
        return _default_tip(payload, clone, pushed_ref, "the push has no previous tip in this clone")
    return _default_tip(payload, clone, None, "")


def _default_tip(
    payload: Mapping[str, Any], clone: CloneView, pushed_ref: str | None, first: str
) -> tuple[str | None, str]:
    """The default branch's tip as trusted commit; (None, why) when it cannot be; `pushed_ref`:
    the ref this push moves, never trusted for itself."""
    lead = f"{first}; " if first else ""
    found = default_branch_tip(payload, clone)
    if isinstance(found, str):
        return None, f"{lead}{found}: built-in defaults apply"
    name, tip = found
    if pushed_ref is not None and pushed_ref == f"refs/heads/{name}":
        return (
            None,
            f"{lead}this push creates the default branch {escape_text(name)}: built-in defaults apply",
        )
    return tip, f"{lead}the default branch {escape_text(name)}'s tip"


def default_branch_tip(payload: Mapping[str, Any], clone: CloneView) -> tuple[str, str] | str:
    """(name, tip) of the payload's `repository.default_branch` as the clone has it (the remote's
    `origin/<name>` first, then a local branch, then any remote's), or why there is none."""
    name = _dig(payload, "repository", "default_branch")
    if not isinstance(name, str) or not name:
        return "the event payload names no default branch"
    tips = {ref_name: tip for ref_name, tip in clone.branch_tips() if is_sha(tip)}
    candidates = [f"refs/remotes/origin/{name}", f"refs/heads/{name}"]
    candidates += sorted(r for r in tips if r.startswith("refs/remotes/") and _names_branch(r, name))
    for candidate in candidates:
        if candidate in tips:
            return name, tips[candidate]
    return f"the default branch {escape_text(name)} is not in this clone"


# --- pull requests ------------------------------------------------------------------------------


def _pull_request(
    event_name: str, payload: Mapping[str, Any], ref: str, sha: str | None, clone: CloneView
) -> Plan:
    number = _dig(payload, "pull_request", "number") or _dig(payload, "number")
    label = f"pull request #{number}" if isinstance(number, int) else "pull request"
    _require_history(clone, f"the commits of the {label}")
    base = _sha(_dig(payload, "pull_request", "base", "sha"))
    head = _sha(_dig(payload, "pull_request", "head", "sha"))
    merge_ref = f"refs/pull/{number}/merge" if isinstance(number, int) else "refs/pull/<n>/merge"
    hint = (
        f"check the pull request out with its history (actions/checkout with `ref: {merge_ref}` "
        "and `fetch-depth: 0`)"
        if event_name == "pull_request_target"
        else f"{FETCH_DEPTH_HINT}, of the pull request's merge ref {merge_ref}"
    )
    if base and head and clone.has_commit(base) and clone.has_commit(head):
        return Plan(
            Scope.RANGE,
            f"{label}: base..head {_short(base)}..{_short(head)}",
            f"{base}..{head}",
            trusted=base,
            trust="the pull request's base",
        )
    if head is not None and not clone.has_commit(head):
        raise ScanError(f"{label}: the head commit {head} is not in this clone; {hint}")
    checked_out = clone.head()
    parents = clone.parents(checked_out) if checked_out else ()
    merge = parents if len(parents) == 2 else None
    notes: list[str] = []
    if head is not None:  # the head is here, the base is not (or is not named)
        notes.append(
            f"the payload's base commit {base} is not in this clone"
            if base
            else "the payload names no base commit"
        )
        if merge is None or merge[1] != head:
            missing = f"the base commit {base}" if base else "the payload's base commit"
            raise ScanError(
                f"{label}: {missing} is not in this clone, and HEAD is not a merge of the head "
                f"{_short(head)} to fall back on; {hint}"
            )
    elif base is not None:
        raise ScanError(f"{label}: the payload names the base but no head commit; {hint}")
    else:
        notes.append("the payload names no base and head commits")
        if merge is None or not _is_pull_merge(checked_out, number, ref, sha, clone):
            if event_name not in _PR_EVENTS and merge is not None:
                notes.append("mode pr outside a pull request event: the checked-out merge is taken as given")
            elif event_name not in _PR_EVENTS:
                raise UsageError(
                    f"mode pr needs a pull_request event or a merge commit checked out; this is a "
                    f"{escape_text(event_name) or 'run without an event'}"
                )
            else:
                raise ScanError(
                    f"{label}: the payload names no base and head commits, and HEAD is not the pull "
                    f"request's merge commit ({merge_ref}) to fall back on; {hint}"
                )
    assert merge is not None
    first, second = merge
    notes.append("falling back to the merge commit's parents HEAD^1..HEAD^2")
    return Plan(
        Scope.RANGE,
        f"{label}: HEAD^1..HEAD^2 {_short(first)}..{_short(second)}",
        f"{first}..{second}",
        tuple(notes),
        trusted=first,
        trust="the merge commit's first parent (the base)",
    )


def _is_pull_merge(
    checked_out: str | None, number: object, ref: str, sha: str | None, clone: CloneView
) -> bool:
    """Is HEAD GitHub's merge commit of this pull request: `GITHUB_SHA` of a run on its merge ref,
    or the tip of the merge ref actions/checkout fetched (`refs/remotes/pull/<n>/merge`)?"""
    if checked_out is None:
        return False
    pattern = re.compile(rf"refs/pull/{number if isinstance(number, int) else r'[0-9]+'}/merge")
    if sha == checked_out and pattern.fullmatch(ref):
        return True
    return any(
        tip == checked_out and pattern.fullmatch(name.replace("refs/remotes/pull/", "refs/pull/", 1))
        for name, tip in clone.branch_tips()
        if name.startswith("refs/remotes/pull/")
    )


# --- pushes -------------------------------------------------------------------------------------


def _push_or_group(event_name: str, payload: Mapping[str, Any], ref: str, clone: CloneView) -> Plan:
    if event_name == "merge_group" or isinstance(payload.get("merge_group"), Mapping):
        before = _sha(_dig(payload, "merge_group", "base_sha"))
        after = _sha(_dig(payload, "merge_group", "head_sha"))
        pushed = _dig(payload, "merge_group", "head_ref")
        label = "merge group"
        forced = False
        previous = "the merge group's base"
    else:
        before = _sha(payload.get("before"))
        after = _sha(payload.get("after"))
        pushed = payload.get("ref") or ref
        label = "push"
        forced = payload.get("forced") is True
        previous = "the push's previous tip"
        if payload.get("deleted") is True:
            return Plan(Scope.NOTHING, f"push deleting {escape_text(str(pushed))}: no commits to scan")
    if (before is None or after is None) and event_name in ("push", "merge_group"):
        raise ScanError(f"the {event_name} event's payload names no valid `before` and `after` commit ids")
    if before is None or after is None:
        raise UsageError(
            f"mode push needs a push or merge_group event naming `before` and `after`; this is a "
            f"{escape_text(event_name) or 'run without an event'}"
        )
    pushed_ref = pushed if isinstance(pushed, str) else ""
    label = f"{label} to {escape_text(pushed_ref)}" if pushed_ref else label
    _require_history(clone, f"the commits of the {label}")
    if not clone.has_commit(after):
        raise ScanError(f"{label}: the pushed commit {after} is not in this clone; {FETCH_DEPTH_HINT}")
    if set(before) == {"0"}:
        expr, what, notes = _not_on_default_branch(after, pushed_ref, payload, clone)
        trusted, trust = _default_tip(payload, clone, pushed_ref, "a new ref has no previous tip")
        return Plan(
            Scope.RANGE,
            f"{label} (new ref): the commits of {_short(after)} {what}",
            expr,
            notes,
            trusted=trusted,
            trust=trust,
        )
    if clone.has_commit(before):
        notes = ("forced push; its previous tip is still in this clone",) if forced else ()
        return Plan(
            Scope.RANGE,
            f"{label}: before..after {_short(before)}..{_short(after)}",
            f"{before}..{after}",
            notes,
            trusted=before,
            trust=previous,
        )
    if forced:
        expr, what, notes = _not_on_default_branch(after, pushed_ref, payload, clone)
        trusted, trust = _default_tip(payload, clone, pushed_ref, "the previous tip is gone")
        return Plan(
            Scope.RANGE,
            f"{label} (forced): the commits of {_short(after)} {what}",
            expr,
            (
                f"forced push: the previous tip {before} is gone from this clone, so this scans "
                f"what {_short(after)} holds that the default branch does not",
                *notes,
            ),
            trusted=trusted,
            trust=trust,
        )
    raise ScanError(f"{label}: the previous tip {before} is not in this clone; {FETCH_DEPTH_HINT}")


def _not_on_default_branch(
    after: str, pushed_ref: str, payload: Mapping[str, Any], clone: CloneView
) -> tuple[str, str, tuple[str, ...]]:
    """`after ^DEFAULT`: what a new (or rewritten) ref holds that the default branch does not;
    the range expression, what it is for the log, and notes.

    Only a branch that existed before this push may be excluded, and the clone, fetched after
    it, cannot tell which those are: another branch created by the same push (or after it) may
    hold the very same commits, and excluding each from the other would leave both runs with
    nothing to scan. The default branch existed (unless this push creates it), and its own
    pushes are gated; other branches are not excluded, so their commits are scanned again here
    rather than never."""
    found = default_branch_tip(payload, clone)
    if isinstance(found, str):
        return after, "(all of its history)", (f"{found}: every commit of the pushed ref is scanned",)
    name, tip = found
    if pushed_ref == f"refs/heads/{name}":
        return after, "(all of its history)", (f"this push creates the default branch {escape_text(name)}",)
    return f"{after} ^{tip}", f"not on the default branch {escape_text(name)}", ()


def _names_branch(ref_name: str, branch: str) -> bool:
    """Is `ref_name` the branch `branch`: `refs/heads/B` or a remote's `refs/remotes/R/B`?"""
    if ref_name == f"refs/heads/{branch}":
        return True
    rest = ref_name.removeprefix("refs/remotes/")
    return rest != ref_name and rest.partition("/")[2] == branch
