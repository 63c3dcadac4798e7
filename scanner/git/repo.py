"""Opening a repository and reading its object database, damaged objects included.

libgit2 1.9 never returns from inflating a truncated loose object, so loose objects are checked
in Python when a repository is opened and damaged ones are never handed to it (`read_raw`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2

from scanner import watchdog
from scanner.errors import ScanError

MWINDOW_MAPPED_LIMIT = 256 * 1024 * 1024  # libgit2 maps pack windows up to this, per process
MWINDOW_SIZE = 32 * 1024 * 1024
_OPEN_BARE = pygit2.enums.RepositoryOpenFlag.BARE


def configure_libgit2() -> None:
    """Process-wide libgit2 settings for a read-only scanner (owner check off, bounded mapping)."""
    pygit2.option(pygit2.enums.Option.SET_OWNER_VALIDATION, False)
    pygit2.settings.mwindow_mapped_limit = MWINDOW_MAPPED_LIMIT
    pygit2.settings.mwindow_size = MWINDOW_SIZE


@dataclass(frozen=True, slots=True)
class RepoSite:
    """Where a scan target sits: its repository, working tree, and the subtree PATH names."""

    gitdir: Path
    workdir: Path | None
    prefix: bytes  # b"" for the whole repository, else b"sub/dir" (no trailing slash)
    bare: bool = False  # opened as a bare repository whatever its config says (PATH is a git directory)


def is_git_dir(path: Path) -> bool:
    """`HEAD`, `objects/` and `refs/`: a git directory, with or without a `config` file."""
    try:
        return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()
    except OSError:
        return False


def locate(target: Path) -> tuple[RepoSite, pygit2.Repository] | None:
    """The repository holding `target` (found upward) and libgit2's handle on it, opened once;
    None for a plain directory. `prepare` makes the handle safe to read.

    A target that is itself a git directory is a bare repository: some mirroring and backup tools
    write one without a `config` file, which libgit2 would open as a repository whose working tree
    is the parent directory (and PATH a subtree of it that no commit holds)."""
    configure_libgit2()
    if target.is_dir() and is_git_dir(target):
        try:
            repo = pygit2.Repository(str(target), _OPEN_BARE)
        except (pygit2.GitError, KeyError, OSError):
            return None
        return RepoSite(target, None, b"", bare=True), repo
    start = target if target.is_dir() else target.parent
    try:
        found = pygit2.discover_repository(str(start))
    except (pygit2.GitError, KeyError, OSError):
        return None
    if not found:
        return None
    try:
        repo = pygit2.Repository(found)
    except (pygit2.GitError, KeyError, OSError):
        return None
    workdir = Path(repo.workdir) if repo.workdir else None
    prefix = b""
    if workdir is not None:
        try:
            rel = target.resolve().relative_to(workdir.resolve())
        except ValueError:
            rel = Path()
        prefix = os.fsencode(rel.as_posix()) if rel.parts else b""
        if prefix == b".":
            prefix = b""
    return RepoSite(Path(found), workdir, prefix), repo


def discover(target: Path) -> RepoSite | None:
    """Where the repository holding `target` is (see `locate`), or None for a plain directory."""
    got = locate(target)
    return None if got is None else got[0]


def open_repository(
    gitdir: Path, bad: frozenset[bytes] | None = None, bare: bool = False
) -> pygit2.Repository:
    """Open a repository and note its damaged loose objects (a worker process opens the one its
    parent opened: `bad` is the parent's list)."""
    configure_libgit2()
    try:
        repo = pygit2.Repository(str(gitdir), _OPEN_BARE) if bare else pygit2.Repository(str(gitdir))
    except (pygit2.GitError, KeyError, OSError) as e:
        raise ScanError(f"cannot open the repository at {gitdir}: {e}") from None
    return prepare(repo, bad)


def prepare(repo: pygit2.Repository, bad: frozenset[bytes] | None = None) -> pygit2.Repository:
    """Check that the object store can be read and note the damaged loose objects (libgit2 1.9
    never returns from inflating a truncated loose object, so those are found first and never
    handed to it); `bad` given: the list is already known."""
    for d in objects_dirs(repo)[:1]:  # this repository's own store: without it nothing can be read
        for sub in (d, d / "pack"):
            if sub.is_dir() and not os.access(sub, os.R_OK | os.X_OK):
                raise ScanError(f"cannot read {sub}: permission denied")
    setattr(repo, "_keysweep_bad", damaged_loose(repo) if bad is None else bad)  # noqa: B010
    return repo


class DamagedObject(pygit2.GitError):
    pass


def bad_objects(repo: pygit2.Repository) -> frozenset[bytes]:
    got = getattr(repo, "_keysweep_bad", None)
    if got is None:
        got = damaged_loose(repo)
        setattr(repo, "_keysweep_bad", got)  # noqa: B010
    return frozenset(got)


def read_raw(repo: pygit2.Repository, raw: bytes) -> tuple[int, bytes]:
    """(type, data) of an object; raises KeyError when absent, GitError when damaged."""
    if raw in getattr(repo, "_keysweep_bad", ()):
        raise DamagedObject(f"damaged loose object {raw.hex()}")
    watchdog.reading(raw)
    otype, data = repo.odb.read(pygit2.Oid(raw=raw))
    return int(otype), data


def read_header(repo: pygit2.Repository, raw: bytes) -> tuple[int, int]:
    if raw in getattr(repo, "_keysweep_bad", ()):
        raise DamagedObject(f"damaged loose object {raw.hex()}")
    watchdog.reading(raw)
    otype, size = repo.odb.read_header(pygit2.Oid(raw=raw))
    return int(otype), int(size)


def objects_dirs(repo: pygit2.Repository) -> list[Path]:
    objects = common_dir(repo) / "objects"
    dirs = [objects]
    seen = {objects.resolve()}
    i = 0
    while i < len(dirs) and i < 16:
        alt = dirs[i] / "info" / "alternates"
        i += 1
        try:
            lines = alt.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            d = (dirs[i - 1] / line).resolve() if not os.path.isabs(line) else Path(line).resolve()
            if d not in seen:
                seen.add(d)
                dirs.append(d)
    return dirs


def damaged_loose(repo: pygit2.Repository) -> frozenset[bytes]:
    """Loose objects whose zlib stream is cut short or whose length disagrees with their header."""
    import zlib

    bad: set[bytes] = set()
    for objects in objects_dirs(repo):
        try:
            fans = [d for d in os.scandir(objects) if len(d.name) == 2 and d.is_dir()]
        except OSError:
            continue
        for fan in fans:
            try:
                names = [e for e in os.scandir(fan.path) if len(e.name) == 38]
            except OSError:
                continue
            for e in names:
                try:
                    raw = bytes.fromhex(fan.name + e.name)
                except ValueError:
                    continue
                if not _loose_ok(e.path, zlib):
                    bad.add(raw)
    return frozenset(bad)


def _loose_ok(path: str, zlib: Any) -> bool:
    d = zlib.decompressobj()
    total = 0
    head = b""
    try:
        with open(path, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                out = d.decompress(chunk)
                if len(head) < 64:
                    head += out[:64]
                total += len(out)
                if d.eof:
                    break
            total += len(d.flush())
    except (OSError, zlib.error):
        return False
    if not d.eof:
        return False
    nul = head.find(b"\x00")
    if nul < 0:
        return False
    try:
        size = int(head[:nul].split(b" ")[1])
    except (IndexError, ValueError):
        return False
    return total == nul + 1 + size


def common_dir(repo: pygit2.Repository) -> Path:
    """The directory holding objects/, refs/ and shallow (differs from .git in linked worktrees)."""
    gd = Path(repo.path)
    cd = gd / "commondir"
    if cd.is_file():
        try:
            rel = cd.read_text(encoding="utf-8").strip()
        except OSError:
            return gd
        return (gd / rel).resolve()
    return gd


def own_odb(repo: pygit2.Repository) -> pygit2.Odb:
    """This repository's own objects, without those of `objects/info/alternates`."""
    objects = str(common_dir(repo) / "objects")
    odb = pygit2.Odb()
    try:
        odb.add_backend(pygit2.OdbBackendPack(objects), 1)
        odb.add_backend(pygit2.OdbBackendLoose(objects, 0, False), 2)
    except (pygit2.GitError, OSError) as e:
        raise ScanError(f"cannot read the object store {objects}: {e}") from None
    return odb


def shallow_commits(repo: pygit2.Repository) -> frozenset[bytes]:
    """Commits whose parents were cut off by a shallow clone (the `shallow` file)."""
    path = common_dir(repo) / "shallow"
    try:
        text = path.read_bytes()
    except OSError:
        return frozenset()
    out: set[bytes] = set()
    for line in text.split():
        try:
            out.add(bytes.fromhex(line.decode("ascii")))
        except (ValueError, UnicodeDecodeError):
            continue
    return frozenset(out)


# ----------------------------------------------------------------------------------------------


def index_bytes(repo: pygit2.Repository) -> bytes | None:
    """The index file as it is on disk (None for a bare repository or when there is none)."""
    if repo.is_bare:
        return None
    try:
        return (Path(repo.path) / "index").read_bytes()
    except OSError:
        return None
