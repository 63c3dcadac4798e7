"""The suppress stage's reads from git: the config and baseline as a trusted commit has them, and
nothing else (which files hold a secret at HEAD is on the report's locations: `apply.live_map`).

A change must not be able to turn its own scan off: a pull request that adds its key to an
allowlist, disables the rule or baselines the fingerprint would pass if its own `.keysweep.toml`
were believed. So the Action reads the config and the baseline from the commit its plan trusts
(`scanner.github.event`: the base of a pull request, `before` of a push, else the default
branch's tip) and names the change when the scanned commit edits either
(`TrustedInputs.changed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pygit2

from scanner.errors import ScanError, UsageError
from scanner.model import Rule
from scanner.suppress.baseline import parse_baseline
from scanner.suppress.policy import Baseline
from scanner.suppress.settings import CONFIG_NAME, Settings, parse_config
from scanner.target import Target


@dataclass(frozen=True, slots=True)
class TrustedInputs:
    commit: str  # the commit they were read from
    settings: Settings | None  # None: that commit has no config file
    baseline: Baseline | None  # None: no baseline named, or that commit has none
    baseline_path: str | None
    changed: tuple[str, ...]  # the config/baseline paths the scanned commit changes


def _repo(target: Target) -> pygit2.Repository:
    if target.site is None:
        raise UsageError(f"{target.path} is not in a git repository")
    return target.repo


def _tree_of(repo: pygit2.Repository, rev: str | bytes) -> tuple[bytes, bytes]:
    """(commit id, tree id) of `rev` (a name, or a commit id already resolved); every object is
    read through the git layer, so a damaged loose object is never handed to libgit2."""
    from scanner.git.objects import parse_commit
    from scanner.git.refs import resolve_rev
    from scanner.git.repo import read_raw

    commit = rev if isinstance(rev, bytes) else resolve_rev(repo, rev)
    try:
        return commit, parse_commit(read_raw(repo, commit)[1])[0].tree
    except (pygit2.GitError, KeyError, ValueError, IndexError) as e:
        raise ScanError(f"cannot read commit {commit.hex()}: {e}") from None


def _blob_at(repo: pygit2.Repository, tree: bytes, path: str) -> tuple[bytes, bytes] | None:
    """(blob id, bytes) at `path` in `tree`, None when there is no such file."""
    from scanner.git.repo import read_raw
    from scanner.git.trees import lookup

    blob, readable = lookup(repo, tree, path.encode("utf-8", "surrogateescape"))
    if not readable:
        raise ScanError(f"cannot read the trees leading to {path}")
    if blob is None:
        return None
    try:
        return blob, read_raw(repo, blob)[1]
    except (pygit2.GitError, KeyError, ValueError) as e:
        raise ScanError(f"cannot read {path} ({blob.hex()}): {e}") from None


def read_at_commit(target: Target, rev: str, path: str) -> bytes | None:
    """The bytes of `path` in commit `rev`'s tree, None when the commit has no such file."""
    repo = _repo(target)
    found = _blob_at(repo, _tree_of(repo, rev)[1], path)
    return None if found is None else found[1]


def read_trusted(
    target: Target,
    builtin: Iterable[Rule],
    scanned: str | None = None,
    config_path: str = CONFIG_NAME,
    baseline_path: str | None = None,
) -> TrustedInputs:
    """The config and baseline as the target's trusted commit has them (`Target.trusting`);
    `changed` lists those of the two files that commit `scanned` holds differently (added,
    edited or deleted)."""
    repo = _repo(target)
    if target.trusted is None:
        raise ValueError("read_trusted needs the commit the run trusts (Target.trusting)")
    commit, tree = _tree_of(repo, target.trusted)
    label = commit.hex()[:12]
    settings = None
    found = _blob_at(repo, tree, config_path)
    if found is not None:
        settings = parse_config(_text(found[1], f"{label}:{config_path}"), f"{label}:{config_path}", builtin)
    bpath = baseline_path or (settings.baseline if settings is not None else None)
    baseline = None
    if bpath is not None:
        bfound = _blob_at(repo, tree, bpath)
        if bfound is not None:
            baseline = parse_baseline(_text(bfound[1], f"{label}:{bpath}"), f"{label}:{bpath}")
    changed: list[str] = []
    if scanned is not None:
        head_tree = _tree_of(repo, scanned)[1]
        for p in (config_path, bpath):
            if p is None:
                continue
            a, b = _blob_at(repo, tree, p), _blob_at(repo, head_tree, p)
            if (a[0] if a else None) != (b[0] if b else None):
                changed.append(p)
    return TrustedInputs(commit.hex(), settings, baseline, bpath, tuple(changed))


def _text(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{where}: not UTF-8") from None
