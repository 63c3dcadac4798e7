"""A plain directory: every regular file below the root, never following a symlink.

Paths are handled as bytes so that hostile names (newlines, `::`, invalid UTF-8) are read
exactly and reported safely.
"""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

from scanner.model import Skip

EXCLUDED_DIRS = frozenset(
    {
        b".git",
        b"node_modules",
        b".venv",
        b"venv",
        b".tox",
        b".nox",
        b"__pycache__",
        b".mypy_cache",
        b".ruff_cache",
        b".pytest_cache",
    }
)
CHUNK_OVERLAP = 64 * 1024


@dataclass(frozen=True, slots=True)
class FileEntry:
    rel: bytes
    abspath: bytes
    size: int


@dataclass(slots=True)
class Walk:
    files: list[FileEntry] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)


def display_path(rel: bytes) -> tuple[str, str | None]:
    """(path as text, base64 of the raw bytes when the name is not valid UTF-8)."""
    try:
        return rel.decode("utf-8"), None
    except UnicodeDecodeError:
        return rel.decode("utf-8", "replace"), base64.b64encode(rel).decode("ascii")


def _is_venv(path: bytes) -> bool:
    return os.path.exists(os.path.join(path, b"pyvenv.cfg"))


def walk(root: bytes, exclude_git: bool = True) -> Walk:
    """All regular files under `root`, with every skip counted by reason."""
    out = Walk()
    stack: list[tuple[bytes, bytes]] = [(root, b"")]
    while stack:
        absdir, reldir = stack.pop()
        try:
            entries = sorted(os.scandir(absdir), key=lambda e: e.name)
        except OSError:
            out.skips.append(Skip("unreadable", display_path(reldir or b".")[0]))
            continue
        for e in entries:
            rel = reldir + b"/" + e.name if reldir else e.name
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                out.skips.append(Skip("unreadable", display_path(rel)[0]))
                continue
            mode = st.st_mode
            if stat.S_ISLNK(mode):
                out.skips.append(Skip("symlink", display_path(rel)[0]))
            elif stat.S_ISDIR(mode):
                if (e.name in EXCLUDED_DIRS and (exclude_git or e.name != b".git")) or _is_venv(e.path):
                    out.skips.append(Skip("excluded", display_path(rel)[0] + "/"))
                else:
                    stack.append((e.path, rel))
            elif stat.S_ISREG(mode):
                if e.name == b".git" and exclude_git:  # a gitlink file of a worktree or submodule
                    out.skips.append(Skip("excluded", display_path(rel)[0]))
                    continue
                out.files.append(FileEntry(rel, e.path, st.st_size))
            else:
                out.skips.append(Skip("special-file", display_path(rel)[0]))
    out.files.sort(key=lambda f: f.rel)
    return out


def read_chunks(path: bytes, cap: int, overlap: int = CHUNK_OVERLAP) -> Iterator[tuple[int, bytes]]:
    """The file's bytes: whole when under `cap`, else in overlapping chunks of `cap` bytes.

    Opened with O_NOFOLLOW so a file swapped for a symlink after the walk is not followed.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError("not a regular file")
        if st.st_size <= cap:  # the common case: one read sized by fstat, no cap-sized buffer
            yield 0, f.read()
            return
        offset = 0
        prev_tail = b""
        while True:
            block = f.read(cap)
            if not block:
                return
            data = prev_tail + block
            yield offset - len(prev_tail), data
            offset += len(block)
            if len(block) < cap:
                return
            prev_tail = data[-overlap:]
