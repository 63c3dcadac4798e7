"""The oracle's terms (tests/oracle.py): what ARCHITECTURE.md §4 says about one secret, and an
engine's report put in those terms, so the two can be compared."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from scanner.model import Report


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class Expect:
    """What §4 says about one secret."""

    first_seen: str | None = None
    last_seen: str | None = None
    present_at_head: bool | None = None
    present_at_refs: tuple[str, ...] = ()
    first_seen_truncated: bool = False
    moved_from: str | None = None
    locations: set[tuple[Any, ...]] = field(default_factory=set)


def normalize(report: Report, history_only: bool = False) -> dict[str, Expect]:
    """The engine's report in the oracle's terms (secrets by digest); working-tree locations
    are left out with `history_only` (the oracle models §4's git part)."""
    out: dict[str, Expect] = {}
    for f in report.findings:
        assert f.secret_sha256 is not None
        if history_only and all(loc.source.value == "worktree" for loc in f.locations):
            continue
        e = Expect(
            first_seen=f.first_seen.commit if f.first_seen else None,
            last_seen=f.last_seen.commit if f.last_seen else None,
            present_at_head=f.present_at_head,
            present_at_refs=f.present_at_refs,
            first_seen_truncated=f.first_seen_truncated,
            moved_from=f.moved_from,
        )
        for loc in f.locations:
            if history_only and loc.source.value == "worktree":
                continue
            e.locations.add(
                (loc.source.value, loc.path, loc.position.line, loc.position.column, loc.commit, loc.blob)
            )
        out[f.secret_sha256] = e
    return out
