"""What the suppress stage applies: allowlists, disabled rules, severity overrides, the baseline.

Plain frozen values (the config loader and the baseline parser build them; `ScanConfig` carries
one), so the same policy reaches the stage whether it came from argv or the Action's inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from scanner.model import Severity
from scanner.suppress.globs import PathGlob


@dataclass(frozen=True, slots=True)
class AllowEntry:
    """`[[allow]]`: findings whose every location is under one of `paths` (for `rules`, or all)."""

    paths: tuple[PathGlob, ...]
    reason: str
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SeverityOverride:
    """`[[severity]]`: findings of `rules` (or all) whose every location is under `paths` (or
    anywhere) get `severity`."""

    severity: Severity
    rules: tuple[str, ...] = ()
    paths: tuple[PathGlob, ...] = ()


@dataclass(frozen=True, slots=True)
class BaselineEntry:
    """One acknowledged secret, by fingerprint (the secret itself is never in a baseline)."""

    fingerprint: str
    rule_id: str
    redacted: str | None
    first_seen: str | None  # commit id
    paths: tuple[str, ...]  # every path the scan located it at (up to 100 locations)
    held_at_head: tuple[str, ...]  # the files that held it at HEAD (or in the tree) then
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Baseline:
    entries: tuple[BaselineEntry, ...]
    key_id: str  # which fingerprint key made the entries (a digest of the key, not the key)

    def by_fingerprint(self) -> dict[str, BaselineEntry]:
        return {e.fingerprint: e for e in self.entries}


class AddedPragmas(StrEnum):
    """`[pragmas] added-by-change`: which findings a `keysweep:allow` that the scanned change
    itself adds (range, staged) may suppress. Such a pragma is its author approving their own key."""

    UNVERIFIED = "unverified"  # all but a secret whose structure is verified offline (default)
    NONE = "none"  # none: the gate counts every finding such a pragma marks
    ALL = "all"  # every one, as a pragma already on the base does

    def honours(self, verified: bool) -> bool:
        """Whether such a pragma suppresses a finding (`verified`: its checksum or marker passed)."""
        return self is AddedPragmas.ALL or (self is AddedPragmas.UNVERIFIED and not verified)


@dataclass(frozen=True, slots=True)
class Policy:
    allow: tuple[AllowEntry, ...] = ()
    disabled_rules: frozenset[str] = frozenset()
    overrides: tuple[SeverityOverride, ...] = ()
    baseline: Baseline | None = None
    suppress: bool = True  # False: --no-suppress, every finding is shown and counted
    added_pragmas: AddedPragmas = AddedPragmas.UNVERIFIED


DEFAULT_POLICY = Policy()
"""Pragmas only: what a scan without a config or baseline applies."""
