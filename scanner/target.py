"""The run context: what one run scans, opened once by the entry point and handed down.

The CLI and the Action open the target once (`open_target`): the repository that holds it (found
upward, opened once by libgit2), its damaged loose objects (listed once: every open would
otherwise inflate every loose object again), HEAD, the refs and, for the Action, the commit its
plan trusts. The pipeline, the sources, the suppress stage's trusted reads and the Action's view
of the clone take what they need from it and never discover or open the repository again.

A directory that no repository holds is a `Target` without a site, found without importing
libgit2 (`_maybe_in_repository`): a plain directory scan never loads pygit2.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pygit2

    from scanner.git.refs import RefTip
    from scanner.git.repo import RepoSite


@dataclass(frozen=True, slots=True)
class Target:
    """One run's scan target: a path and, when a repository holds it, that repository."""

    path: Path  # as given (`keysweep scan PATH`, the Action's `path` input)
    site: RepoSite | None = None  # None: a plain directory (or a path that does not exist)
    handle: pygit2.Repository | None = None  # libgit2's handle, opened once; read it through `repo`
    trusted: bytes | None = None  # the commit whose config and baseline the run trusts (the Action's)
    # what was read of the repository, once: the checked handle, HEAD, the refs (not compared)
    _memo: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @property
    def repo(self) -> pygit2.Repository:
        """The repository, its object store checked and its damaged loose objects listed (on
        first use, so that an unreadable store fails the scan, not the reading of the config)."""
        got = self._memo.get("repo")
        if got is None:
            if self.handle is None:
                raise ValueError(f"{self.path} is not in a git repository")
            from scanner.git.repo import prepare

            got = self._memo["repo"] = prepare(self.handle)
        return got  # type: ignore[return-value]

    @property
    def head(self) -> bytes | None:
        """HEAD's commit (None: unborn, or no repository)."""
        if "head" not in self._memo:
            from scanner.git.refs import head_commit

            self._memo["head"] = head_commit(self.repo) if self.site is not None else None
        return self._memo["head"]  # type: ignore[return-value]

    @property
    def refs(self) -> tuple[list[RefTip], list[str]]:
        """Every ref with its direct target, and the names of refs that could not be resolved."""
        if "refs" not in self._memo:
            from scanner.git.refs import list_refs

            self._memo["refs"] = list_refs(self.repo) if self.site is not None else ([], [])
        return self._memo["refs"]  # type: ignore[return-value]

    @property
    def root(self) -> Path:
        """Where `.keysweep.toml` and relative baseline paths live: the working tree's root, else
        the scanned directory."""
        if self.site is not None and self.site.workdir is not None:
            return self.site.workdir
        return self.path if self.path.is_dir() else self.path.parent

    def trusting(self, rev: str) -> Target:
        """This target with `rev` resolved as the commit the run trusts."""
        from scanner.git.refs import resolve_rev

        return replace(self, trusted=resolve_rev(self.repo, rev))


def open_target(path: Path) -> Target:
    """Find and open what `path` is in, once (see the module docstring)."""
    if not path.exists() or not _maybe_in_repository(path):
        return Target(path)
    from scanner.git.repo import locate

    found = locate(path)
    if found is None:
        return Target(path)
    site, handle = found
    return Target(path, site, handle)


def _maybe_in_repository(path: Path) -> bool:
    """Whether some folder at or above `path` looks like a repository (a `.git` entry, or a git
    directory itself): without one, libgit2's discovery could find nothing, so it is not loaded."""
    start = (path if path.is_dir() else path.parent).absolute()
    try:
        real = start.resolve()
    except (OSError, RuntimeError):
        return True  # let libgit2 say
    for folder in dict.fromkeys((start, *start.parents, real, *real.parents)):
        try:
            if os.path.lexists(folder / ".git") or (
                (folder / "HEAD").is_file() and (folder / "objects").is_dir()
            ):
                return True
        except OSError:
            return True
    return False
