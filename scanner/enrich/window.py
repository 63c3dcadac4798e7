"""The exposure window of each secret finding (issue 24 items 1-3): its age at the scan's start,
the commit on HEAD's first-parent line that removed it, whether it was never rotated, and the
environments it sits in.

A step on the findings, after `findings.build_findings` (the window is a property of a secret,
not of one place): `pipeline.build_report` runs it with the scan's start time — wall-clock UTC,
kept in the report's `ScanInfo.started` and so in the saved state, so a re-rendered report gives
the same ages — and the removal walk built from the run's repository (`git_removals`).
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from scanner.environments import DEFAULT, EnvironmentTable
from scanner.findings import finding_order
from scanner.git.firstparent import Held
from scanner.model import CommitRef, Environments, Finding, Kind, Location, NeverRotated, Severity, SourceKind

if TYPE_CHECKING:
    import pygit2

Removals = Callable[[Mapping[str, Held]], dict[str, CommitRef]]  # fingerprint → the removing commit
_TIME = "%Y-%m-%dT%H:%M:%SZ"
_DAY = 86400
_UP = {Severity.LOW: Severity.MEDIUM, Severity.MEDIUM: Severity.HIGH, Severity.HIGH: Severity.CRITICAL}


def git_removals(repo: pygit2.Repository, head: bytes) -> Removals:
    """The removal walk of HEAD's first-parent line in `repo` (scanner/git/firstparent.py)."""
    from scanner.git.firstparent import removals
    from scanner.sources.base import commit_ref

    def find(wanted: Mapping[str, Held]) -> dict[str, CommitRef]:
        if not wanted:
            return {}
        return {k: commit_ref(oid, meta) for k, (oid, meta) in removals(repo, head, wanted).items()}

    return find


def parse_time(text: str) -> datetime:
    """A report's ISO 8601 UTC time (`2024-05-01T12:00:00Z`)."""
    return datetime.strptime(text, _TIME).replace(tzinfo=UTC)


def format_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime(_TIME)


def days_between(start: str, end: datetime) -> int:
    """Whole days from `start` (a report's time) to `end`, never negative (a commit dated later)."""
    return max(0, (end - parse_time(start)).days)


def windows(
    findings: Sequence[Finding],
    started: datetime,
    max_key_age: int,
    removals: Removals | None = None,
    table: EnvironmentTable = DEFAULT,
) -> list[Finding]:
    """The findings with their windows; a secret shared across environments goes up one severity
    step, saying why (one already lowered with a reason — a key ID alone, public by design — stays
    where its reason put it); the result is in report order again."""
    gone = removals(_held(findings, table)) if removals is not None else {}
    out = [_window(f, started, max_key_age, gone, table) for f in findings]
    out.sort(key=finding_order)
    return out


def _held(findings: Sequence[Finding], table: EnvironmentTable) -> dict[str, Held]:
    """What the removal walk looks for: the history places of each dated secret not at HEAD (key:
    its fingerprint), and of each environment of a shared secret that HEAD no longer holds there
    (key: fingerprint NUL environment), to tell "at the same time" from "one after another"."""
    wanted: dict[str, Held] = {}
    for f in findings:
        if f.kind is not Kind.SECRET or f.first_seen is None:
            continue
        history = [loc for loc in f.locations if loc.source is SourceKind.HISTORY and loc.blob is not None]
        until = _time(f.last_seen.commit_time) if f.last_seen is not None else None
        if f.present_at_head is False and history:
            wanted[f.fingerprint] = _places(history, until)
        by_env: dict[str, list[Location]] = {}
        for loc in f.locations:
            name = loc.environment or table.environment_of(loc.path)
            if name is not None:
                by_env.setdefault(name.lower(), []).append(loc)
        if len(by_env) < 2:
            continue
        for env, locs in by_env.items():
            held = [loc for loc in locs if loc in history]
            if held and not any(loc.at_head or loc.source is SourceKind.WORKTREE for loc in locs):
                wanted[f"{f.fingerprint}\0{env}"] = _places(held, until)
    return wanted


def _places(locs: Sequence[Location], until: int | None) -> Held:
    """`until`: the secret's last_seen, the newest commit the sweep saw holding it anywhere."""
    since = min(loc.commit_time if loc.commit_time is not None else 0 for loc in locs)
    return Held(frozenset((_path(loc), bytes.fromhex(loc.blob or "")) for loc in locs), since, until)


def _time(text: str) -> int:
    return int(parse_time(text).timestamp())


def _path(loc: Location) -> bytes:
    if loc.path_bytes is not None:
        return base64.b64decode(loc.path_bytes)
    return loc.path.encode("utf-8", "surrogateescape")


def _window(
    f: Finding, started: datetime, max_key_age: int, gone: Mapping[str, CommitRef], table: EnvironmentTable
) -> Finding:
    if f.kind is not Kind.SECRET:
        return f
    age = days_between(f.first_seen.commit_time, started) if f.first_seen is not None else None
    never = None
    if f.present_at_head and age is not None and age > max_key_age:
        at_head = len({loc.path for loc in f.locations if loc.at_head}) or 1
        never = NeverRotated(f"in the code for {age} days: rotate it", at_head)
    envs = _environments(f, table, gone)
    severity, reason = f.severity, f.severity_reason
    if envs is not None and envs.shared and reason is None and severity in _UP:
        severity = _UP[severity]
        reason = f"shared across environments {', '.join(envs.names)}: a leak of one is a leak of all"
    return replace(
        f,
        age_days=age,
        removed=gone.get(f.fingerprint),
        never_rotated=never,
        environments=envs,
        severity=severity,
        severity_reason=reason,
    )


def _environments(f: Finding, table: EnvironmentTable, gone: Mapping[str, CommitRef]) -> Environments | None:
    """The environments of the finding's locations; when shared, whether they held it at the same
    time: each environment holds it from its first location's commit until it is removed there
    (the removal walk), for good when HEAD or the working tree holds it there, or until the
    secret's last_seen when the walk found no removal; spans that overlap are "at the same time"."""
    spans: dict[str, tuple[float, float]] = {}
    names: dict[str, str] = {}
    last = parse_time(f.last_seen.commit_time).timestamp() if f.last_seen is not None else float("inf")
    for loc in f.locations:
        name = loc.environment or table.environment_of(loc.path)
        if name is None:
            continue
        key = name.lower()
        names.setdefault(key, name)
        start = float(loc.commit_time if loc.commit_time is not None else 0)
        low, high = spans.get(key, (start, float("-inf")))
        end = float("inf") if loc.at_head or loc.source is SourceKind.WORKTREE else high
        spans[key] = (min(low, start), max(high, end))
    if not names:
        return None
    ordered = tuple(sorted(names.values(), key=str.lower))
    if len(ordered) < 2:
        return Environments(ordered)
    for key, (low, high) in spans.items():
        if high == float("-inf"):
            removed = gone.get(f"{f.fingerprint}\0{key}")
            spans[key] = (low, parse_time(removed.commit_time).timestamp() if removed is not None else last)
    ranges = sorted(spans.values())
    together = any(b[0] < a[1] for a, b in itertools.pairwise(ranges))
    return Environments(ordered, together)
