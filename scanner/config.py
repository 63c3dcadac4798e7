"""The one resolved configuration of a scan, built once by `resolve_config` for the CLI and the
Action alike.

An entry point reads what is its own — argv or the `INPUT_*` variables, the environment — into a
`Request`, and reads the config file and baseline it trusts into `ConfigFiles` (the CLI from disk,
`suppress/inputs.py::load_local`; the Action from the trusted commit, `suppress/trusted.py`).
`resolve_config` folds those and the bundled rules into one frozen `ScanConfig`: the ruleset, the
fingerprint key (a baseline made under another key is refused), `fail-on` (the command line or
input, then the config, then `high`) and the policy the suppress stage applies. Nothing copies it
field by field afterwards; a second scan of the same run (the Action's tree scan beside its range)
is the same config `in_mode` another mode. Defaults live at the bottom layer (`scanner/defaults.py`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.defaults import (
    DEFAULT_FAIL_ON,
    DEFAULT_FINGERPRINT_KEY,
    DEFAULT_MAX_KEY_AGE,
    DEFAULT_SIZE_CAP,
    ENGINE_ENV,
    ENGINES,
)
from scanner.environments import DEFAULT as DEFAULT_ENVIRONMENTS
from scanner.environments import EnvironmentTable
from scanner.errors import UsageError
from scanner.model import Rule, Severity
from scanner.output.escape import shown
from scanner.suppress.policy import DEFAULT_POLICY, Policy

if TYPE_CHECKING:
    from scanner.suppress.inputs import ConfigFiles
    from scanner.verify.runner import VerifySettings
    from scanner.verify.step import Verifier


class Mode(StrEnum):
    """What a scan reads (ARCHITECTURE.md §4); a target outside a repository is a directory scan."""

    HISTORY = "history"  # the full sweep and the working tree (default)
    TREE = "tree"  # --no-history: HEAD's tree and the working tree
    RANGE = "range"  # --range EXPR
    STAGED = "staged"  # --staged


@dataclass(frozen=True, slots=True)
class Request:
    """What an entry point was asked for, already checked: argv, or the Action's inputs."""

    target: Path
    mode: Mode = Mode.HISTORY
    range_expr: str | None = None  # with Mode.RANGE
    jobs: int = 0
    engine: str = "auto"  # from KEYSWEEP_ENGINE (`engine`)
    fail_on: str | None = None  # as given (none | low | … | critical); None: not given, the config decides
    cache: Path | None = None
    strict: bool = False
    bundles: tuple[Path, ...] = ()
    suppress: bool = True  # False: --no-suppress
    group_secret: str | None = (
        None  # KEYSWEEP_FINGERPRINT_KEY: groups weak secrets across runs (docs/state.md)
    )
    # --verify / the `verify` input: live verification with the settings the entry point read from
    # its environment (`VerifySettings.from_env`: proxy, CA bundle); None: off
    verify: VerifySettings | None = None


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
    cache: Path | None = None  # --cache DIR: the history cache (trusted input; sources/history/cache.py)
    strict: bool = False  # --strict: any gap in coverage is exit 3 (range and staged scans always are)
    bundles: tuple[
        Path, ...
    ] = ()  # --bundles DIR: build output to read as client bundles (any mode but staged)
    policy: Policy = DEFAULT_POLICY  # the suppress stage: config allowlists, disabled rules, baseline
    rules: tuple[Rule, ...] = ()  # the ruleset: the bundled rules and the config's own, sorted by id
    config_source: str | None = None  # the config file it was resolved with, if any
    baseline_source: str | None = None  # the baseline it was resolved with, if any
    verify: Verifier | None = None  # live verification, shared by every scan of the run; None: off
    max_key_age: int = DEFAULT_MAX_KEY_AGE  # `max-key-age`: days at HEAD before a key is "never rotated"
    started: datetime | None = None  # the scan's start (UTC); None: now. Tests set it to fix ages
    # the environment table (docs/environments.md) with the trusted config's `[environments]`
    environments: EnvironmentTable = DEFAULT_ENVIRONMENTS

    @property
    def workers(self) -> int:
        return self.jobs if self.jobs > 0 else max(1, os.cpu_count() or 1)

    def in_mode(self, mode: Mode, range_expr: str | None = None) -> ScanConfig:
        """This config for another scan of the same run (the Action's tree scan beside its range)."""
        return replace(self, mode=mode, range_expr=range_expr if mode is Mode.RANGE else None)


def engine(value: str | None) -> str:
    """The matcher engine `KEYSWEEP_ENGINE` asks for (`value`: its value, None when unset)."""
    chosen = value if value is not None else "auto"
    if chosen not in ENGINES:
        raise UsageError(f"{ENGINE_ENV} must be auto, hyperscan or python, not {shown(chosen)}")
    return chosen


def resolve_config(request: Request, builtin: Sequence[Rule], files: ConfigFiles | None = None) -> ScanConfig:
    """The one frozen config of a scan: `request`, the trusted `files` (None: no config file and no
    baseline, the built-in defaults) and the `builtin` rules."""
    from scanner.findings import resolve_group_key
    from scanner.suppress.baseline import key_id
    from scanner.suppress.inputs import NO_FILES

    files = files or NO_FILES
    settings, baseline = files.settings, files.baseline
    rules = tuple(sorted((*builtin, *(settings.rules if settings else ())), key=lambda r: r.id))
    key = settings.fingerprint_key if settings and settings.fingerprint_key else DEFAULT_FINGERPRINT_KEY
    if baseline is not None and baseline.key_id != key_id(key):
        raise UsageError(
            f"{files.baseline_source}: made with another fingerprint key (key_id {baseline.key_id}, "
            f"this config's is {key_id(key)}); recreate it or use the config it was made with"
        )
    level = request.fail_on or (settings.fail_on if settings else None) or DEFAULT_FAIL_ON
    policy = settings.policy if settings is not None else Policy()
    return ScanConfig(
        target=request.target,
        mode=request.mode,
        range_expr=request.range_expr if request.mode is Mode.RANGE else None,
        jobs=request.jobs,
        engine=request.engine,
        fail_on=None if level == "none" else Severity(level),
        fingerprint_key=key,
        group_key=resolve_group_key(request.group_secret, key),
        cache=request.cache,
        strict=request.strict,
        bundles=request.bundles,
        policy=replace(policy, baseline=baseline, suppress=request.suppress),
        rules=rules,
        config_source=settings.source if settings else None,
        baseline_source=files.baseline_source,
        verify=_verifier(request.verify),
        max_key_age=settings.max_key_age
        if settings and settings.max_key_age is not None
        else DEFAULT_MAX_KEY_AGE,
        environments=settings.environments
        if settings and settings.environments is not None
        else DEFAULT_ENVIRONMENTS,
    )


def _verifier(settings: VerifySettings | None) -> Verifier | None:
    if settings is None:
        return None
    from scanner.verify.step import Verifier

    return Verifier(settings)
