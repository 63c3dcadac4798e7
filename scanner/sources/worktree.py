"""The working-tree part of a repository scan (ARCHITECTURE.md §4 "Working tree").

Tracked files that differ from the index, untracked files that are not ignored, and of ignored
files only `.env*` files and build output: client output there is a bundle (sources/bundles.py),
the rest `local-only` (a reminder, not yet a leak).
Never `.git/`, `node_modules/` or virtualenvs; symlinks are never followed (skipped, counted).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence

import pygit2

from scanner import watchdog
from scanner.detect.engine import Matcher
from scanner.git.index import read_index
from scanner.git.objects import parse_commit
from scanner.git.refs import head_commit
from scanner.git.repo import RepoSite, bad_objects, read_raw
from scanner.git.trees import under, walk_tree
from scanner.model import Provenance
from scanner.skips import ARCHIVE, CORRUPT, EXCLUDED, SPECIAL, SYMLINK, UNREADABLE
from scanner.sources.base import Found, ScanContext, SourceResult, secret_id
from scanner.sources.bundles import build_output, file_place, is_archive, roots_in
from scanner.sources.files import scan_file
from scanner.sources.walk import EXCLUDED_DIRS, FileEntry, walk

# plain ints: pygit2 hands out enum flags, and enum arithmetic per entry is slow on a big checkout
_WT_CHANGED = int(
    pygit2.GIT_STATUS_WT_NEW
    | pygit2.GIT_STATUS_WT_MODIFIED
    | pygit2.GIT_STATUS_WT_TYPECHANGE
    | pygit2.GIT_STATUS_WT_RENAMED
    | pygit2.GIT_STATUS_CONFLICTED
)
_IGNORED = int(pygit2.GIT_STATUS_IGNORED)
_NEW = int(pygit2.GIT_STATUS_WT_NEW)


def _is_env(path: bytes) -> bool:
    return path.rsplit(b"/", 1)[-1].startswith(b".env")


def _excluded(path: bytes) -> bool:
    return any(p in EXCLUDED_DIRS for p in path.split(b"/"))


def worktree_scan(
    repo: pygit2.Repository, site: RepoSite, matcher: Matcher, cap: int, bundle_dirs: Sequence[bytes] = ()
) -> SourceResult:
    """Scan the working-tree part of the repository at `site` (nothing for a bare repository);
    client output (sources/bundles.py, `bundle_dirs` included) is reported as a bundle."""
    res = SourceResult()
    if site.workdir is None or repo.is_bare:
        return res
    root = os.fsencode(str(site.workdir))
    damaged = _damaged_head(repo)
    status: dict[str, int] | None = None
    if damaged is not None:  # libgit2's status would spin forever on it (scanner/git/repo.py)
        res.skip(CORRUPT, f"{damaged}: the working tree is compared with the index only")
    else:
        try:
            with watchdog.doing("reading the working tree's status"):
                status = repo.status(untracked_files="all", ignored=True)
        except pygit2.GitError:
            status = None  # e.g. libgit2's "directory nesting too deep (100)": walk it here
    if status is None:
        try:
            status = _status_by_walk(repo, root, res)
        except (pygit2.GitError, OSError, ValueError) as e:
            res.skip(UNREADABLE, f"working tree: {e}")
            return res
    files: list[tuple[bytes, bool, bool]] = []  # (relative path, ignored, untracked)
    res.skip(EXCLUDED, ".git/")  # never read: it can hold the CI job's own token
    for name, flag in sorted(status.items()):
        flags = int(flag)
        if not flags & (_WT_CHANGED | _IGNORED):
            continue  # the working tree matches the index there (or the file is gone): nothing to read
        rel = os.fsencode(name)
        if not under(rel.rstrip(b"/"), site.prefix) and not under(site.prefix, rel.rstrip(b"/")):
            continue
        if _excluded(rel.rstrip(b"/")):
            res.skip(EXCLUDED, rel.decode("utf-8", "replace"))
            continue
        if flags & _IGNORED:
            if rel.endswith(b"/"):
                for d in roots_in(rel.rstrip(b"/"), bundle_dirs):
                    if not os.path.isdir(os.path.join(root, d)):
                        continue
                    w = walk(os.path.join(root, d))
                    for s in w.skips:
                        res.skip(s.reason, d.decode("utf-8", "replace") + "/" + s.example)
                    files.extend((d + b"/" + f.rel, True, True) for f in w.files)
                continue
            if _is_env(rel) or build_output(rel, bundle_dirs):
                files.append((rel, True, True))
            continue
        if flags & _WT_CHANGED and not rel.endswith(b"/"):
            files.append((rel, False, bool(flags & _NEW)))
        elif flags & _NEW and os.path.lexists(os.path.join(root, rel, b".git")):
            # an untracked nested repository (libgit2 does not enter it): another repository
            res.skip(EXCLUDED, rel.decode("utf-8", "replace") + ".git/ (a nested repository, not read)")
    for rel, local, untracked in files:
        if not under(rel, site.prefix):
            continue
        if local and is_archive(rel):
            res.skip(ARCHIVE, rel.decode("utf-8", "replace"))
            continue
        abspath = os.path.join(root, rel)
        try:
            st = os.lstat(abspath)
        except FileNotFoundError:
            continue  # deleted in the working tree: nothing to read
        except OSError:
            res.skip(UNREADABLE, rel.decode("utf-8", "replace"))
            continue
        if stat.S_ISLNK(st.st_mode):
            res.skip(SYMLINK, rel.decode("utf-8", "replace"))
            continue
        if stat.S_ISDIR(st.st_mode):
            res.skip(EXCLUDED, rel.decode("utf-8", "replace") + "/")
            continue
        if not stat.S_ISREG(st.st_mode):
            res.skip(SPECIAL, rel.decode("utf-8", "replace"))
            continue
        fr = scan_file(matcher, FileEntry(rel, abspath, st.st_size), cap)
        if res.counted(fr.skip, st.st_size) and fr.hits:
            place = file_place(rel, abspath, bundle_dirs, local=local, untracked=untracked)
            res.founds.append(Found(fr.hits, [place]))
            for m, _ in fr.hits:
                res.provenance.setdefault(secret_id(m), Provenance())
    res.sources = {"worktree": res.files}
    return res


def _status_by_walk(repo: pygit2.Repository, root: bytes, res: SourceResult) -> dict[str, int]:
    """libgit2's status flags this scan needs, from keysweep's own iterative walk and index
    parser (any depth; no object is read): a file is changed when its blob id differs from its
    stage-0 index entry, untracked when the index lacks it, ignored as the ignore files say."""
    index = {e.path: e.blob for e in read_index(repo) if e.stage == 0}
    conflicted = {e.path for e in read_index(repo) if e.stage}
    w = walk(root)
    for sk in w.skips:
        if sk.reason != EXCLUDED:
            res.skip(sk.reason, sk.example)
        elif sk.example.endswith("/.git/"):  # a nested repository's own .git/ (its files are read)
            res.skip(EXCLUDED, sk.example)
    out: dict[str, int] = {}
    for f in w.files:
        name = os.fsdecode(f.rel)
        blob = index.get(f.rel)
        if blob is not None and f.rel not in conflicted:
            if _blob_id(f.abspath) != blob:
                out[name] = _WT_CHANGED
        elif f.rel in conflicted:
            out[name] = _WT_CHANGED
        elif repo.path_is_ignored(name):
            out[name] = _IGNORED
        else:
            out[name] = _WT_CHANGED
    return out


def _blob_id(path: bytes) -> bytes:
    h = hashlib.sha1(usedforsecurity=False)
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        h.update(b"blob %d\x00" % size)
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.digest()


def _damaged_head(repo: pygit2.Repository) -> str | None:
    """The damaged object on HEAD's commit or trees, which libgit2's status would read (None: none)."""
    if not bad_objects(repo):
        return None
    head = head_commit(repo)
    if head is None:
        return None
    try:
        _, data = read_raw(repo, head)
        tree = parse_commit(data)[0].tree
    except (pygit2.GitError, KeyError, ValueError, OSError, IndexError):
        return f"commit {head.hex()} (HEAD)"
    bad: list[str] = []
    for _ in walk_tree(
        repo, tree, b"", lambda reason, example: bad.append(example) if reason == CORRUPT else None
    ):
        pass
    return bad[0] if bad else None


class WorktreeSource:
    """The working-tree part of a repository scan."""

    def __init__(self, repo: pygit2.Repository, site: RepoSite, bundle_dirs: Sequence[bytes] = ()) -> None:
        self.repo = repo
        self.site = site
        self.bundle_dirs = tuple(bundle_dirs)  # --bundles dirs inside the working tree, repository-relative

    def scan(self, ctx: ScanContext) -> SourceResult:
        return worktree_scan(self.repo, self.site, ctx.matcher, ctx.size_cap, self.bundle_dirs)
