"""The frozen configuration of one scan: argv and the Action's inputs both end up here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from scanner.findings import DEFAULT_FINGERPRINT_KEY
from scanner.model import Severity
from scanner.sources.walk import DEFAULT_SIZE_CAP
from scanner.suppress.policy import DEFAULT_POLICY, Policy


class Mode(StrEnum):
    """What a scan reads (ARCHITECTURE.md §4); a target outside a repository is a directory scan."""

    HISTORY = "history"  # the full sweep and the working tree (default)
    TREE = "tree"  # --no-history: HEAD's tree and the working tree
    RANGE = "range"  # --range EXPR
    STAGED = "staged"  # --staged


@dataclass(frozen=True, slots=True)
class ScanConfig:
    target: Path
    mode: Mode = Mode.HISTORY
    range_expr: str | None = None  # with Mode.RANGE
    jobs: int = 0  # 0: one per core
    engine: str = "auto"  # auto | hyperscan | python
    size_cap: int = DEFAULT_SIZE_CAP
    fail_on: Severity | None = Severity.HIGH
    fingerprint_key: bytes = DEFAULT_FINGERPRINT_KEY
    # groups weak secrets so the groups survive into a saved state (findings.weak_group_key of the
    # organisation's secret key); None: a random per-run key
    group_key: bytes | None = None
    cache: Path | None = None  # --cache DIR: the history cache (trusted input; scanner/cache.py)
    strict: bool = False  # --strict: any gap in coverage is exit 3 (range and staged scans always are)
    bundles: tuple[
        Path, ...
    ] = ()  # --bundles DIR: build output to read as client bundles (any mode but staged)
    policy: Policy = DEFAULT_POLICY  # the suppress stage: config allowlists, disabled rules, baseline

    @property
    def workers(self) -> int:
        return self.jobs if self.jobs > 0 else max(1, os.cpu_count() or 1)
