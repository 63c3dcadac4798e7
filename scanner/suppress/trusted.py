"""The suppress stage's reads from git: the config and baseline as a trusted commit has them, and
which files hold a secret at HEAD.

A change must not be able to turn its own scan off: a pull request that adds its key to an
allowlist, disables the rule or baselines the fingerprint would pass if its own `.keysweep.toml`
were believed. So the Action reads the config and the baseline from the base commit on
`pull_request` and from `before` on `push` (the scanned commit only for a new branch, which has
no base), and names the change when the scanned commit edits either (`TrustedInputs.changed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pygit2

from scanner.errors import ScanError, UsageError
from scanner.model import Finding, Report, Rule, SourceKind
from scanner.suppress.apply import live_paths
from scanner.suppress.baseline import parse_baseline
from scanner.suppress.policy import Baseline
from scanner.suppress.settings import CONFIG_NAME, Settings, parse_config


@dataclass(frozen=True, slots=True)
class TrustedInputs:
    commit: str  # the commit they were read from
    settings: Settings | None  # None: that commit has no config file
    baseline: Baseline | None  # None: no baseline named, or that commit has none
    baseline_path: str | None
    changed: tuple[str, ...]  # the config/baseline paths the scanned commit changes


def _open(target: Path) -> pygit2.Repository:
    from scanner.git.repo import discover

    site = discover(target)
    if site is None:
        raise UsageError(f"{target} is not in a git repository")
    try:
        return pygit2.Repository(str(site.gitdir))
    except (pygit2.GitError, KeyError, OSError) as e:
        raise ScanError(f"cannot open the repository at {site.gitdir}: {e}") from None


def _commit(repo: pygit2.Repository, rev: str) -> pygit2.Commit:
    try:
        obj = repo.revparse_single(rev)
        commit = obj.peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        raise ScanError(
            f"commit {rev} is not in the repository (a shallow checkout? use fetch-depth: 0)"
        ) from None
    return commit


def _blob_at(commit: pygit2.Commit, path: str) -> pygit2.Blob | None:
    try:
        entry = commit.tree[path]
    except (KeyError, ValueError):
        return None
    return entry if isinstance(entry, pygit2.Blob) else None


def read_at_commit(target: Path, rev: str, path: str) -> bytes | None:
    """The bytes of `path` in commit `rev`'s tree, None when the commit has no such file."""
    blob = _blob_at(_commit(_open(target), rev), path)
    return None if blob is None else bytes(blob.data)


def read_trusted(
    target: Path,
    trusted: str,
    builtin: Iterable[Rule],
    scanned: str | None = None,
    config_path: str = CONFIG_NAME,
    baseline_path: str | None = None,
) -> TrustedInputs:
    """The config and baseline as commit `trusted` has them; `changed` lists those of the two
    files that commit `scanned` holds differently (added, edited or deleted)."""
    repo = _open(target)
    base = _commit(repo, trusted)
    label = str(base.id)[:12]
    settings = None
    blob = _blob_at(base, config_path)
    if blob is not None:
        text = _text(blob, f"{label}:{config_path}")
        settings = parse_config(text, f"{label}:{config_path}", builtin)
    bpath = baseline_path or (settings.baseline if settings is not None else None)
    baseline = None
    if bpath is not None:
        bblob = _blob_at(base, bpath)
        if bblob is not None:
            baseline = parse_baseline(_text(bblob, f"{label}:{bpath}"), f"{label}:{bpath}")
    changed: list[str] = []
    if scanned is not None:
        head = _commit(repo, scanned)
        for p in (config_path, bpath):
            if p is None:
                continue
            a, b = _blob_at(base, p), _blob_at(head, p)
            if (a.id if a else None) != (b.id if b else None):
                changed.append(p)
    return TrustedInputs(str(base.id), settings, baseline, bpath, tuple(changed))


def _text(blob: pygit2.Blob, where: str) -> str:
    try:
        return bytes(blob.data).decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{where}: not UTF-8") from None


def live_map(report: Report) -> dict[str, tuple[str, ...]]:
    """fingerprint → the files holding each finding's secret now (see `apply.live_paths`); for
    a full sweep, history locations are looked up in HEAD's tree."""
    findings: list[Finding] = [*report.findings, *report.suppressed]
    head_blobs: dict[str, str] | None = None
    if report.scan.mode == "history" and report.scan.head is not None:
        head_blobs = {}
        tree = _commit(_open(Path(report.scan.target)), report.scan.head).tree
        for path in sorted(
            {loc.path for f in findings for loc in f.locations if loc.source is SourceKind.HISTORY}
        ):
            try:
                head_blobs[path] = str(tree[path].id)
            except (KeyError, ValueError):
                continue
    return {f.fingerprint: live_paths(f, report.scan.mode, head_blobs) for f in findings}
