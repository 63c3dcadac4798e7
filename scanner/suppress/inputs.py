"""The config file and baseline a scan trusts, read from disk (`load_local`: the CLI, and the
Action on a plain directory). The Action reads them from a trusted commit instead
(`trusted.read_trusted`); both end in `config.resolve_config`, so they agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import UsageError
from scanner.model import Rule
from scanner.suppress.baseline import parse_baseline
from scanner.suppress.policy import Baseline
from scanner.suppress.settings import Settings, find_config, load_config


@dataclass(frozen=True, slots=True)
class ConfigFiles:
    """The config file and baseline a scan trusts, as read (from disk, or from a trusted commit)."""

    settings: Settings | None = None
    baseline: Baseline | None = None
    baseline_source: str | None = None  # where the baseline came from, for messages


NO_FILES = ConfigFiles()
"""No config file and no baseline: the built-in defaults."""


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
) -> ConfigFiles:
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
        return ConfigFiles(settings)
    try:
        text = bpath.read_bytes().decode("utf-8")
    except OSError as e:
        raise UsageError(f"{bpath}: cannot read the baseline: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{bpath}: the baseline is not UTF-8") from None
    return ConfigFiles(settings, parse_baseline(text, str(bpath)), str(bpath))
