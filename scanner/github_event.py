"""What a workflow run should scan, decided from its event (github.md §5, ARCHITECTURE.md §7).

Pure: the action reads the payload and hands over a view of the clone; this module only decides.
Every commit id that reaches a range expression is a validated hex id from the payload or the
clone, never a ref name or free text, so nothing a pusher controls is parsed as a revision.

The decisions, for mode `auto`:

- `pull_request`, `pull_request_target`: `base..head` from the payload; when those are absent
  (forks, merged PRs) or not in the clone, the merge commit's parents `HEAD^1..HEAD^2`.
- `push`, `merge_group`: `before..after`. A new ref (all-zero `before`) scans what `after` holds
  that no other branch holds; so does a forced push whose `before` is gone from the clone (and the
  plan says so). A non-forced `before` that is absent means a shallow or partial checkout: exit 3.
- `schedule`, `workflow_dispatch` and any other event: the full history sweep.

A shallow clone is exit 3 for every mode but `tree`, with a message naming `fetch-depth: 0`:
a range or sweep over a cut history would pass on what it never read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    # whose `.keysweep.toml` and baseline the scan trusts: the base of a pull request, `before` of a
    # push, the pushed commit of a new branch; None: the checked-out commit (sweeps, tree scans).
    # A change must not be able to turn its own scan off.
    trusted: str | None = None
    no_trusted: bool = False  # a forced push whose previous tip is gone: built-in defaults only

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


def plan(mode: Mode, event_name: str, payload: Mapping[str, Any], ref: str, clone: CloneView) -> Plan:
    """The scan for this run; UsageError (exit 2) or ScanError (exit 3) when there is none to make."""
    match mode:
        case Mode.TREE:
            return Plan(Scope.TREE, "mode tree: the checked-out commit's tree only")
        case Mode.FULL:
            return _sweep(clone, "mode full: the whole history")
        case Mode.PR:
            return _pull_request(event_name, payload, clone)
        case Mode.PUSH:
            return _push_or_group(event_name, payload, ref, clone)
        case Mode.AUTO:
            if event_name in _PR_EVENTS:
                return _pull_request(event_name, payload, clone)
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


def _pull_request(event_name: str, payload: Mapping[str, Any], clone: CloneView) -> Plan:
    number = _dig(payload, "pull_request", "number") or _dig(payload, "number")
    label = f"pull request #{number}" if isinstance(number, int) else "pull request"
    _require_history(clone, f"the commits of the {label}")
    base = _sha(_dig(payload, "pull_request", "base", "sha"))
    head = _sha(_dig(payload, "pull_request", "head", "sha"))
    notes: list[str] = []
    if base and head:
        missing = [name for name, sha in (("base", base), ("head", head)) if not clone.has_commit(sha)]
        if not missing:
            return Plan(
                Scope.RANGE,
                f"{label}: base..head {_short(base)}..{_short(head)}",
                f"{base}..{head}",
                trusted=base,
            )
        notes.append(f"the payload's {' and '.join(missing)} commit is not in this clone")
    else:
        notes.append("the payload names no base and head commits")
    checked_out = clone.head()
    parents = clone.parents(checked_out) if checked_out else ()
    if len(parents) == 2:
        first, second = parents
        notes.append("falling back to the merge commit's parents HEAD^1..HEAD^2")
        return Plan(
            Scope.RANGE,
            f"{label}: HEAD^1..HEAD^2 {_short(first)}..{_short(second)}",
            f"{first}..{second}",
            tuple(notes),
            trusted=first,
        )
    if event_name not in _PR_EVENTS and not (base or head):
        raise UsageError(
            f"mode pr needs a pull_request event or a merge commit checked out; this is a "
            f"{escape_text(event_name) or 'run without an event'}"
        )
    hint = FETCH_DEPTH_HINT
    if event_name == "pull_request_target":
        hint += ", of the pull request's merge ref (`ref: refs/pull/<n>/merge`)"
    raise ScanError(f"{label}: {notes[0]}, and HEAD is not a merge commit to fall back on; {hint}")


def _push_or_group(event_name: str, payload: Mapping[str, Any], ref: str, clone: CloneView) -> Plan:
    if event_name == "merge_group" or isinstance(payload.get("merge_group"), Mapping):
        before = _sha(_dig(payload, "merge_group", "base_sha"))
        after = _sha(_dig(payload, "merge_group", "head_sha"))
        pushed = _dig(payload, "merge_group", "head_ref")
        label = "merge group"
        forced = False
    else:
        before = _sha(payload.get("before"))
        after = _sha(payload.get("after"))
        pushed = payload.get("ref") or ref
        label = "push"
        forced = payload.get("forced") is True
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
        expr, count = _not_on_other_branches(after, pushed_ref, clone)
        return Plan(
            Scope.RANGE,
            f"{label} (new ref): the commits of {_short(after)} not on any other branch "
            f"({count} other branch{'es' if count != 1 else ''})",
            expr,
            trusted=after,
        )
    if clone.has_commit(before):
        notes = ("forced push; its previous tip is still in this clone",) if forced else ()
        return Plan(
            Scope.RANGE,
            f"{label}: before..after {_short(before)}..{_short(after)}",
            f"{before}..{after}",
            notes,
            trusted=before,
        )
    if forced:
        expr, count = _not_on_other_branches(after, pushed_ref, clone)
        return Plan(
            Scope.RANGE,
            f"{label} (forced): the commits of {_short(after)} not on any other branch "
            f"({count} other branch{'es' if count != 1 else ''})",
            expr,
            (
                f"forced push: the previous tip {before} is gone from this clone, so this scans "
                f"what {_short(after)} holds that no other branch holds",
                "forced push: no trusted commit to read the config and baseline from; built-in defaults apply",
            ),
            no_trusted=True,
        )
    raise ScanError(f"{label}: the previous tip {before} is not in this clone; {FETCH_DEPTH_HINT}")


def _not_on_other_branches(after: str, pushed_ref: str, clone: CloneView) -> tuple[str, int]:
    """`after ^X ^Y…` over every other branch's tip (by id), and how many branches that is."""
    name = pushed_ref.removeprefix("refs/heads/") if pushed_ref.startswith("refs/heads/") else None
    others: dict[str, None] = {}
    count = 0
    for ref_name, tip in clone.branch_tips():
        if name is not None and _names_branch(ref_name, name):
            continue
        if ref_name.endswith("/HEAD") or not is_sha(tip):
            continue
        count += 1
        others.setdefault(tip)
    return " ".join([after, *(f"^{tip}" for tip in others)]), count


def _names_branch(ref_name: str, branch: str) -> bool:
    """Is `ref_name` the pushed branch itself: `refs/heads/B` or a remote's `refs/remotes/R/B`?"""
    if ref_name == f"refs/heads/{branch}":
        return True
    rest = ref_name.removeprefix("refs/remotes/")
    return rest != ref_name and rest.partition("/")[2] == branch
