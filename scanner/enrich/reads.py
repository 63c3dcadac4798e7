"""What the enrich steps may read, per source: a place's content again (to judge a bundle by what
it holds) and the files of the tree it sits in (a bundle's source map). Built by the pipeline from
the run's target; nothing here opens a repository, and libgit2 is loaded only to read one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanner.detect.bundle import Sniff, sniff
from scanner.sources.base import Place, SourceResult
from scanner.sources.bundles import sniff_file

if TYPE_CHECKING:
    import pygit2

    from scanner.model import Rule
    from scanner.verify.step import Verifier

Read = Callable[[str], bytes | None]  # a root-relative path's bytes, None when absent
Files = Callable[[Place], Read | None]  # the files of the tree a place sits in (None: not readable)
Sniffer = Callable[[Place], Sniff]  # a place's content, judged (detect/bundle.py)
MAX_READ = 256 << 20  # a bundle or map larger than this is not paired (detect/sourcemap.py refuses it too)


@dataclass(frozen=True, slots=True)
class Reads:
    """How one source's places are read again; None: that step does not apply to them."""

    sniff: Sniffer | None  # None: the source judged its own places (the working tree) or is judged
    files: Files | None  # None: its places get no source-map origins
    extra: tuple[bytes, ...] = ()  # `--bundles` dirs inside the scan root, root-relative
    context: bytes = b""  # where the scan root sits in its project (sources/bundles.py::root_context)
    # live verification (`--verify`): the run's verifier and the ruleset the findings are named by
    verify: tuple[Verifier, tuple[Rule, ...]] | None = None


NO_READS = Reads(None, None)


@dataclass(frozen=True, slots=True)
class Sourced:
    """One source's result and how its places can be read again."""

    result: SourceResult
    reads: Reads


def git_reads(repo: pygit2.Repository, extra: tuple[bytes, ...]) -> Reads:
    """A repository's places: judged by their blob, paired with their commit's map."""
    return Reads(blob_sniffer(repo), commit_files(repo), extra)


def disk_reads(root: bytes, extra: tuple[bytes, ...] = (), context: bytes = b"", judge: bool = True) -> Reads:
    """Places of files under `root` (the working tree judges its own: `judge` False)."""
    return Reads(file_sniffer(root) if judge else None, disk_files(root), extra, context)


def blob_sniffer(repo: pygit2.Repository) -> Sniffer:
    import pygit2

    from scanner.git.repo import read_raw

    def read(place: Place) -> Sniff:
        if place.blob is None:
            return Sniff()
        try:
            return sniff(read_raw(repo, place.blob)[1])
        except (pygit2.GitError, KeyError, ValueError, OSError):
            return Sniff()  # unreadable now: judged by its path alone

    return read


def file_sniffer(root: bytes) -> Sniffer:
    def read(place: Place) -> Sniff:
        return sniff_file(os.path.join(root, place.path))

    return read


def read_file_under(root: bytes, path: str, cap: int = MAX_READ) -> bytes | None:
    """The bytes of `path` under `root`, None when absent, unreadable, a symlink or over `cap`."""
    full = os.path.join(root, os.fsencode(path))
    try:
        fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        try:
            return f.read() if os.fstat(f.fileno()).st_size <= cap else None
        except OSError:
            return None


def read_blob(repo: pygit2.Repository, blob: bytes, cap: int = MAX_READ) -> bytes | None:
    """A blob's bytes through the git layer, None when missing, damaged or over `cap`."""
    import pygit2

    from scanner.git.repo import read_raw

    try:
        data = read_raw(repo, blob)[1]
    except (pygit2.GitError, KeyError, ValueError, OSError):
        return None
    return data if len(data) <= cap else None


def disk_files(root: bytes) -> Files:
    """Files of the working tree or a directory: every place reads under `root` (symlinks refused)."""
    return lambda _place: lambda path: read_file_under(root, path)


def commit_files(repo: pygit2.Repository) -> Files:
    """Files of the commit a place is attributed to (a history, tree or range place), read through
    the git layer: a commit's bundle is paired with that commit's map."""
    import pygit2

    from scanner.git.objects import parse_commit
    from scanner.git.repo import read_raw
    from scanner.git.trees import lookup

    trees: dict[bytes, bytes | None] = {}

    def tree_of(commit: bytes) -> bytes | None:
        if commit not in trees:
            try:
                trees[commit] = parse_commit(read_raw(repo, commit)[1])[0].tree
            except (pygit2.GitError, KeyError, ValueError, OSError, IndexError):
                trees[commit] = None
        return trees[commit]

    def files(place: Place) -> Read | None:
        if place.commit is None:
            return None
        tree = tree_of(place.commit)
        if tree is None:
            return None

        def read(path: str) -> bytes | None:
            blob, _ok = lookup(repo, tree, path.encode("utf-8", "surrogateescape"))
            return read_blob(repo, blob) if blob is not None else None

        return read

    return files
