"""From a config and a baseline to what a scan runs with: the ruleset, the policy, `fail-on` and
the fingerprint key. The CLI reads both files from disk (`load_local`); the Action reads them from
the trusted commit (`trusted.read_trusted`); both end in `resolve`, so they agree.

Precedence of `fail-on`: the command line (or the Action's input), then the config, then `high`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from scanner.errors import UsageError
from scanner.findings import DEFAULT_FINGERPRINT_KEY
from scanner.model import Rule, Severity
from scanner.suppress.baseline import key_id, parse_baseline
from scanner.suppress.policy import Baseline, Policy
from scanner.suppress.settings import Settings, find_config, load_config

DEFAULT_FAIL_ON = "high"


@dataclass(frozen=True, slots=True)
class ScanInputs:
    rules: tuple[Rule, ...]  # the bundled rules plus the config's own
    policy: Policy
    fail_on: Severity | None  # None: --fail-on none
    fingerprint_key: bytes
    config_source: str | None
    baseline_source: str | None


def repository_root(target: Path) -> Path:
    """Where `.keysweep.toml` and relative baseline paths live: the working tree root, else the
    scanned directory."""
    from scanner.git.repo import discover

    site = discover(target) if target.exists() else None
    if site is not None and site.workdir is not None:
        return site.workdir
    return target if target.is_dir() else target.parent


def load_local(
    target: Path,
    builtin: Sequence[Rule],
    config: Path | None,
    baseline: Path | None,
    config_baseline: bool = True,
    root: Path | None = None,
) -> tuple[Settings | None, Baseline | None, str | None]:
    """The config (`config`, else `.keysweep.toml` at the root) and the baseline (`baseline`,
    else — with `config_baseline` — the one the config names), read from disk. `root` is the
    run's (scanner/target.py: `Target.root`); found from `target` when not given."""
    root = root if root is not None else repository_root(target)
    path = config if config is not None else find_config(root)
    settings = load_config(path, builtin) if path is not None else None
    bpath = baseline
    if bpath is None and config_baseline and settings is not None and settings.baseline is not None:
        bpath = root / settings.baseline
        if not bpath.is_file():
            raise UsageError(
                f"{settings.source}: baseline: {settings.baseline} does not exist "
                f"(create it with `keysweep baseline create --output {settings.baseline}`)"
            )
    if bpath is None:
        return settings, None, None
    try:
        text = bpath.read_bytes().decode("utf-8")
    except OSError as e:
        raise UsageError(f"{bpath}: cannot read the baseline: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{bpath}: the baseline is not UTF-8") from None
    return settings, parse_baseline(text, str(bpath)), str(bpath)


def resolve(
    builtin: Sequence[Rule],
    settings: Settings | None,
    baseline: Baseline | None,
    baseline_source: str | None,
    fail_on: str | None,
    suppress: bool = True,
) -> ScanInputs:
    """What the scan runs with; `fail_on` is the command line's (None: not given)."""
    rules = tuple(sorted((*builtin, *(settings.rules if settings else ())), key=lambda r: r.id))
    key = settings.fingerprint_key if settings and settings.fingerprint_key else DEFAULT_FINGERPRINT_KEY
    if baseline is not None and baseline.key_id != key_id(key):
        raise UsageError(
            f"{baseline_source}: made with another fingerprint key (key_id {baseline.key_id}, "
            f"this config's is {key_id(key)}); recreate it or use the config it was made with"
        )
    level = fail_on or (settings.fail_on if settings else None) or DEFAULT_FAIL_ON
    policy = settings.policy if settings is not None else Policy()
    policy = replace(policy, baseline=baseline, suppress=suppress)
    return ScanInputs(
        rules=rules,
        policy=policy,
        fail_on=None if level == "none" else Severity(level),
        fingerprint_key=key,
        config_source=settings.source if settings else None,
        baseline_source=baseline_source,
    )
