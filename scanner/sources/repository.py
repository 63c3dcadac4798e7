"""The repository source: every object of the object database once, blob-first (ARCHITECTURE.md §5).

Phase A reads every object once in the order the object database lists it (packs in pack-index
order, then loose objects): blobs are scanned, commits and annotated tags are parsed and their
messages scanned, trees are only listed. Phase B reads every tree once: it records subtree links
(child id → parent tree) compactly, and notes which trees hold an *interesting* id directly — a
blob that matched, or an object that could not be read (missing, corrupt, over the size cap).
Provenance (§4) is then computed for the matched blobs only, from the commit graph and the few
trees that lead to them.

Nothing here runs `git`, reads a repository's config-named programs, or writes to stdout.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pygit2

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

from scanner.cache import HistoryCache, digest
from scanner.detect.engine import Matcher
from scanner.detect.positions import LineIndex
from scanner.errors import ScanError
from scanner.gcpause import paused_gc
from scanner.model import CommitRef, Match, Position, Provenance, Rule, Skip
from scanner.sources.crew import Crew, CrewSpec, ObjectsDone, SweepWorker, Tick, TreesDone, split_chunks
from scanner.sources.packs import Listing, list_objects, loose_ids, split_ids

# ----------------------------------------------------------------------------------------------
# skip reasons: a fixed set, in scanner/sources/skips.py (ARCHITECTURE.md §5)
from scanner.sources.skips import (
    CORRUPT,
    GITLINK,
    LFS_POINTER,
    MISSING,
    SHALLOW,
    TOO_LARGE,
)

OBJ_COMMIT, OBJ_TREE, OBJ_BLOB, OBJ_TAG = 1, 2, 3, 4
MODE_TREE = b"40000"
MODE_GITLINK = b"160000"
LFS_HEADER = b"version https://git-lfs.github.com/spec/v1"
DEFAULT_BLOB_CAP = 64 * 1024 * 1024
MWINDOW_MAPPED_LIMIT = 256 * 1024 * 1024  # libgit2 maps pack windows up to this, per process
MWINDOW_SIZE = 32 * 1024 * 1024

_ENTRY_IDS = re.compile(rb"([0-7]{5,6}) [^\x00]*\x00(.{20})", re.S)
_ENTRY_FULL = re.compile(rb"([0-7]{5,6}) ([^\x00]*)\x00(.{20})", re.S)

Hits = tuple[tuple[Match, Position], ...]


class Progress(Protocol):
    """Where long sweeps report how far they are (the CLI draws it; sources never write)."""

    def update(self, phase: str, done: int, total: int, nbytes: int) -> None: ...

    def close(self) -> None: ...


class NullProgress:
    def update(self, phase: str, done: int, total: int, nbytes: int) -> None:
        return None

    def close(self) -> None:
        return None


# ----------------------------------------------------------------------------------------------
# opening


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


def discover(target: Path) -> RepoSite | None:
    """The repository holding `target` (found upward), or None for a plain directory."""
    configure_libgit2()
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
    return RepoSite(Path(found), workdir, prefix)


def open_repository(gitdir: Path, bad: frozenset[bytes] | None = None) -> pygit2.Repository:
    """Open a repository and note its damaged loose objects (libgit2 1.9 never returns from
    inflating a truncated loose object, so those are found first and never handed to it)."""
    configure_libgit2()
    try:
        repo = pygit2.Repository(str(gitdir))
    except (pygit2.GitError, KeyError, OSError) as e:
        raise ScanError(f"cannot open the repository at {gitdir}: {e}") from None
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
    otype, data = repo.odb.read(pygit2.Oid(raw=raw))
    return int(otype), data


def read_header(repo: pygit2.Repository, raw: bytes) -> tuple[int, int]:
    if raw in getattr(repo, "_keysweep_bad", ()):
        raise DamagedObject(f"damaged loose object {raw.hex()}")
    otype, size = repo.odb.read_header(pygit2.Oid(raw=raw))
    return int(otype), int(size)


def _objects_dirs(repo: pygit2.Repository) -> list[Path]:
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
    for objects in _objects_dirs(repo):
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
    odb.add_backend(pygit2.OdbBackendPack(objects), 1)
    odb.add_backend(pygit2.OdbBackendLoose(objects, 0, False), 2)
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
# parsing raw objects


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    email: str
    time: int


@dataclass(frozen=True, slots=True)
class CommitMeta:
    tree: bytes
    parents: tuple[bytes, ...]
    author: Signature
    committer: Signature


@dataclass(frozen=True, slots=True)
class TagMeta:
    target: bytes
    target_type: int
    name: bytes
    tagger: Signature | None


_TYPES = {b"commit": OBJ_COMMIT, b"tree": OBJ_TREE, b"blob": OBJ_BLOB, b"tag": OBJ_TAG}


def _signature(value: bytes) -> Signature:
    lt = value.find(b"<")
    gt = value.rfind(b">")
    if lt < 0 or gt < lt:
        return Signature(value.decode("utf-8", "replace").strip(), "", 0)
    name = value[:lt].decode("utf-8", "replace").strip()
    email = value[lt + 1 : gt].decode("utf-8", "replace")
    rest = value[gt + 1 :].split()
    try:
        t = int(rest[0]) if rest else 0
    except ValueError:
        t = 0
    return Signature(name, email, t)


def split_object(data: bytes) -> tuple[dict[bytes, list[bytes]], bytes, int]:
    """(headers, message, message offset) of a raw commit or tag."""
    end = data.find(b"\n\n")
    head, off = (data, len(data)) if end < 0 else (data[:end], end + 2)
    headers: dict[bytes, list[bytes]] = {}
    last: bytes | None = None
    for line in head.split(b"\n"):
        if line.startswith(b" ") and last is not None:
            continue  # continuation (gpgsig, mergetag)
        key, _, value = line.partition(b" ")
        headers.setdefault(key, []).append(value)
        last = key
    return headers, data[off:], off


def parse_commit(data: bytes) -> tuple[CommitMeta, bytes]:
    h, message, _ = split_object(data)
    tree = bytes.fromhex(h[b"tree"][0].decode("ascii"))
    parents = tuple(bytes.fromhex(p.decode("ascii")) for p in h.get(b"parent", ()))
    author = _signature(h.get(b"author", [b""])[0])
    committer = _signature(h.get(b"committer", [b""])[0])
    return CommitMeta(tree, parents, author, committer), message


def parse_tag(data: bytes) -> tuple[TagMeta, bytes]:
    h, message, _ = split_object(data)
    target = bytes.fromhex(h[b"object"][0].decode("ascii"))
    ttype = _TYPES.get(h.get(b"type", [b""])[0], 0)
    name = h.get(b"tag", [b""])[0]
    tagger = _signature(h[b"tagger"][0]) if b"tagger" in h else None
    return TagMeta(target, ttype, name, tagger), message


def tree_entries(data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """(mode, name, id) of every entry of a raw tree."""
    return _ENTRY_FULL.findall(data)


def iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def commit_ref(oid: bytes, meta: CommitMeta) -> CommitRef:
    return CommitRef(
        commit=oid.hex(),
        author=meta.author.name,
        email=meta.author.email,
        author_time=iso(meta.author.time),
        commit_time=iso(meta.committer.time),
    )


def scan_text(matcher: Matcher, data: bytes) -> Hits:
    """Matches of one text with their positions (pragma-marked matches included)."""
    found = matcher.scan(data)
    if not found:
        return ()
    index = LineIndex(data)
    return tuple((m, index.position(m.start, m.end)) for m in found)


# ----------------------------------------------------------------------------------------------
# phase A and B workers (each process opens the repository itself)


@dataclass(slots=True)
class BlobResult:
    oid: bytes
    size: int
    status: str  # "ok" | MISSING | CORRUPT | TOO_LARGE
    hits: Hits = ()
    lfs: bool = False


@dataclass(slots=True)
class ObjectBatch:
    """What phase A learnt from one slice of the object list."""

    blobs: list[BlobResult] = field(default_factory=list)
    commits: list[tuple[bytes, CommitMeta, Hits, int]] = field(
        default_factory=list
    )  # id, meta, hits, msg size
    tags: list[tuple[bytes, TagMeta, Hits, int]] = field(default_factory=list)
    trees: list[bytes] = field(default_factory=list)
    corrupt: list[tuple[bytes, int]] = field(default_factory=list)  # (id, type or 0)
    nbytes: int = 0
    count: int = 0


@dataclass(slots=True)
class Worker:
    repo: pygit2.Repository
    matcher: Matcher
    cap: int

    def read_objects(self, ids: bytes) -> ObjectBatch:
        out = ObjectBatch()
        for raw in split_ids(ids):
            out.count += 1
            try:
                otype, size = read_header(self.repo, raw)
            except (pygit2.GitError, KeyError, ValueError, OSError):
                out.corrupt.append((raw, 0))
                continue
            if otype == OBJ_TREE:
                out.trees.append(raw)
                continue
            if otype == OBJ_BLOB and size > self.cap:
                out.blobs.append(BlobResult(raw, size, TOO_LARGE))
                continue
            try:
                _, data = read_raw(self.repo, raw)
            except (pygit2.GitError, KeyError, ValueError, OSError):
                if otype == OBJ_BLOB:
                    out.blobs.append(BlobResult(raw, size, CORRUPT))
                else:
                    out.corrupt.append((raw, otype))
                continue
            out.nbytes += len(data)
            if otype == OBJ_BLOB:
                out.blobs.append(self.scan_blob(raw, data))
            elif otype == OBJ_COMMIT:
                try:
                    meta, message = parse_commit(data)
                except (KeyError, ValueError, IndexError):
                    out.corrupt.append((raw, otype))
                    continue
                out.commits.append((raw, meta, scan_text(self.matcher, message), len(message)))
            elif otype == OBJ_TAG:
                try:
                    tmeta, message = parse_tag(data)
                except (KeyError, ValueError, IndexError):
                    out.corrupt.append((raw, otype))
                    continue
                out.tags.append((raw, tmeta, scan_text(self.matcher, message), len(message)))
        return out

    def scan_blob(self, raw: bytes, data: bytes) -> BlobResult:
        lfs = data.startswith(LFS_HEADER) and len(data) < 1024
        return BlobResult(raw, len(data), "ok", scan_text(self.matcher, data), lfs)


_WORKER: Worker | None = None


def _init_worker(
    gitdir: str, rules: Sequence[Rule], engine: str, serialized: bytes | None, cap: int, bad: frozenset[bytes]
) -> None:
    global _WORKER
    repo = open_repository(Path(gitdir), bad)
    _WORKER = Worker(repo, Matcher(rules, engine, serialized), cap)


def _task_objects(ids: bytes) -> ObjectBatch:
    assert _WORKER is not None
    return _WORKER.read_objects(ids)


@dataclass(frozen=True, slots=True)
class PoolSpec:
    gitdir: str
    rules: tuple[Rule, ...]
    engine: str
    serialized: bytes | None
    cap: int
    workers: int
    bad: frozenset[bytes] = frozenset()


def pool_spec(
    repo: pygit2.Repository, rules: Sequence[Rule], matcher: Matcher, cap: int, workers: int
) -> PoolSpec:
    pre = matcher.prefilter
    serialized = pre.serialize() if hasattr(pre, "serialize") else None
    return PoolSpec(repo.path, tuple(rules), matcher.engine, serialized, cap, workers, bad_objects(repo))


def run_objects(
    local: Worker, spec: PoolSpec, ids: Sequence[bytes], progress: Progress, phase: str
) -> Iterator[ObjectBatch]:
    """Phase A over `ids`: in this process, or split across worker processes in list order."""
    chunks = _chunks(ids, spec.workers)
    total = len(ids)
    done = nbytes = 0
    if spec.workers <= 1 or len(chunks) <= 1:
        for c in chunks:
            b = local.read_objects(c)
            done += b.count
            nbytes += b.nbytes
            progress.update(phase, done, total, nbytes)
            yield b
        return
    with _pool(spec) as pool:
        for b in pool.map(_task_objects, chunks):
            done += b.count
            nbytes += b.nbytes
            progress.update(phase, done, total, nbytes)
            yield b


def _pool(spec: PoolSpec) -> ProcessPoolExecutor:
    from concurrent.futures import ProcessPoolExecutor  # imported when a pool is used (start-up)
    from multiprocessing import get_context

    return ProcessPoolExecutor(
        spec.workers,
        mp_context=get_context("fork"),
        initializer=_init_worker,
        initargs=(spec.gitdir, spec.rules, spec.engine, spec.serialized, spec.cap, spec.bad),
    )


def _chunks(ids: Sequence[bytes], workers: int) -> list[bytes]:
    n = len(ids)
    if n == 0:
        return []
    per = 4000 if workers <= 1 else max(64, min(4000, n // (workers * 8) + 1))
    return [b"".join(ids[i : i + per]) for i in range(0, n, per)]


# the full sweep's workers (scanner/sources/crew.py): small repositories are swept in-process

RESUME_MAX_NEW = 50_000  # more new objects than this: a cached sweep starts over
POOL_MIN_OBJECTS = 40_000  # fewer objects than this: no worker processes
CHUNK_OBJECTS = 1000  # objects per chunk; each worker takes the next free chunk


def _sweep_worker(
    repo: pygit2.Repository,
    matcher: Matcher,
    cap: int,
    listing: Listing,
    chunks: Sequence[tuple[int, int, int]],
    tick: Tick,
) -> SweepWorker:
    def scan_blob(raw: bytes, data: bytes) -> tuple[Hits, bool]:
        return scan_text(matcher, data), data.startswith(LFS_HEADER) and len(data) < 1024

    return SweepWorker(
        repo,
        matcher,
        cap,
        listing,
        chunks,
        tick,
        scan_blob,
        parse_commit,
        parse_tag,
        lambda message: scan_text(matcher, message),
        lambda raw: read_raw(repo, raw),
        lambda raw: read_header(repo, raw),
    )


def _sig_tuple(sig: Signature) -> tuple[str, str, int]:
    return sig.name, sig.email, sig.time


def _no_tick(phase: str, count: int, nbytes: int) -> None:
    return None


def _make_worker(
    spec: CrewSpec, listing: Listing, chunks: Sequence[tuple[int, int, int]], tick: Tick
) -> SweepWorker:
    repo = open_repository(Path(spec.gitdir), spec.bad)
    return _sweep_worker(
        repo, Matcher(spec.rules, spec.engine, spec.serialized), spec.cap, listing, chunks, tick
    )


# ----------------------------------------------------------------------------------------------
# refs


@dataclass(frozen=True, slots=True)
class RefTip:
    name: str
    target: bytes  # the object the ref names (before peeling)


def list_refs(repo: pygit2.Repository) -> tuple[list[RefTip], list[str]]:
    """Every ref under refs/ with its direct target; names of refs that could not be resolved."""
    tips: list[RefTip] = []
    broken: list[str] = []
    try:
        names = list(repo.listall_references())
    except pygit2.GitError:
        names = []
    for name in names:
        if not name.startswith("refs/"):
            continue
        try:
            ref = repo.references.get(name)
            if ref is None:
                broken.append(name)
                continue
            target = ref.resolve().target
            tips.append(RefTip(name, bytes(getattr(target, "raw", b""))))
        except (pygit2.GitError, KeyError, ValueError, AttributeError):
            broken.append(name)
    tips.sort(key=lambda t: t.name)
    return tips, broken


def head_commit(repo: pygit2.Repository) -> bytes | None:
    """HEAD's commit id, None when unborn. In a bare repository whose HEAD names a branch that
    does not exist (a mirror made with another default), the default branch: main, master, or
    the only branch there is."""
    try:
        if not repo.head_is_unborn:
            target = repo.head.resolve().target
            return bytes(getattr(target, "raw", b"")) or None
    except (pygit2.GitError, KeyError, ValueError):
        pass
    if not repo.is_bare:
        return None
    branches = sorted(n for n in repo.listall_references() if n.startswith("refs/heads/"))
    for name in ("refs/heads/main", "refs/heads/master", *(branches if len(branches) == 1 else ())):
        if name in branches:
            try:
                commit = repo.references[name].peel(pygit2.Commit)
            except (pygit2.GitError, KeyError, ValueError):
                continue
            return bytes(commit.id.raw)
    return None


# ----------------------------------------------------------------------------------------------
# what a source hands to the pipeline


def secret_key(m: Match) -> str:
    """What "holds the secret" compares: the secret, or for an exposure its rule and normalized text."""
    if m.secret is not None:
        return m.secret
    return "\x00" + m.rule_id + "\x00" + " ".join((m.exposure_text or "").split())


@dataclass(frozen=True, slots=True)
class Place:
    """One location of a text: (source, path, blob) and the commit it is attributed to."""

    source: str  # a SourceKind value
    path: bytes
    blob: bytes | None = None
    commit: bytes | None = None
    commit_time: int | None = None
    local_only: bool = False


@dataclass(slots=True)
class Found:
    """A text that matched and every place it sits."""

    hits: Hits
    places: list[Place]


@dataclass(slots=True)
class SourceResult:
    founds: list[Found] = field(default_factory=list)
    provenance: dict[str, Provenance] = field(default_factory=dict)
    skips: list[Skip] = field(default_factory=list)
    skip_counts: dict[str, int] = field(default_factory=dict)
    head: bytes | None = None
    commits: int = 0
    objects: int = 0
    blobs: int = 0
    nbytes: int = 0
    files: int = 0
    sources: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, example: str, count: int = 1) -> None:
        self.skip_counts[reason] = self.skip_counts.get(reason, 0) + count
        if sum(1 for s in self.skips if s.reason == reason) < 5:
            self.skips.append(Skip(reason, example))


def display(path: bytes) -> str:
    return path.decode("utf-8", "replace")


# ----------------------------------------------------------------------------------------------
# commit graph and the trees that lead to interesting objects

K_BLOB, K_UNREAD = 0, 1
Entry = tuple[bytes, bytes, int]  # (path, id, kind)


def generations(commits: dict[bytes, CommitMeta]) -> dict[bytes, int]:
    """Generation numbers: 1 for a root (or a commit whose parents are absent), else 1 + max of parents."""
    gen: dict[bytes, int] = {}
    for start in commits:
        if start in gen:
            continue
        stack = [start]
        while stack:
            c = stack[-1]
            if c in gen:
                stack.pop()
                continue
            pending = [p for p in commits[c].parents if p in commits and p not in gen]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            gen[c] = 1 + max((gen[p] for p in commits[c].parents if p in commits), default=0)
    return gen


def under(path: bytes, prefix: bytes) -> bool:
    return not prefix or path == prefix or path.startswith(prefix + b"/")


class Trees:
    """Paths of interesting ids inside the trees that lead to them (parsed on demand, memoized)."""

    def __init__(
        self, repo: pygit2.Repository, closure: set[bytes], interesting: set[bytes], unread: set[bytes]
    ):
        self.repo = repo
        self.closure = closure
        self.interesting = interesting
        self.unread = unread
        self._memo: dict[bytes, tuple[Entry, ...]] = {}

    def of(self, tree: bytes) -> tuple[Entry, ...]:
        if tree in self.unread:
            return ((b"", tree, K_UNREAD),)
        if tree not in self.closure:
            return ()
        return self._walk(tree, 0)

    def _walk(self, tree: bytes, depth: int) -> tuple[Entry, ...]:
        got = self._memo.get(tree)
        if got is not None:
            return got
        out: list[Entry] = []
        try:
            _, data = read_raw(self.repo, tree)
        except (pygit2.GitError, KeyError, ValueError, OSError):
            data = None
        if data is None:
            res: tuple[Entry, ...] = ((b"", tree, K_UNREAD),)
            self._memo[tree] = res
            return res
        for mode, name, child in tree_entries(data):
            if mode == MODE_TREE:
                if child in self.unread:
                    out.append((name, child, K_UNREAD))
                elif child in self.closure and depth < 256:
                    for path, oid, kind in self._walk(child, depth + 1):
                        out.append((name + b"/" + path if path else name, oid, kind))
            elif mode != MODE_GITLINK and child in self.interesting:
                out.append((name, child, K_BLOB))
        res = tuple(out)
        self._memo[tree] = res
        return res


@dataclass(slots=True)
class View:
    """The interesting content of one commit's tree: blobs by path, and dirs that could not be read."""

    blobs: dict[bytes, bytes]
    unread: tuple[bytes, ...]

    def unknown_at(self, path: bytes, unreadable: set[bytes] | frozenset[bytes]) -> bool:
        b = self.blobs.get(path)
        if b is not None and b in unreadable:
            return True
        return any(not d or path == d or path.startswith(d + b"/") for d in self.unread)


EMPTY_VIEW = View({}, ())


# ----------------------------------------------------------------------------------------------
# the full sweep


@dataclass(frozen=True, slots=True)
class IndexEntry:
    path: bytes
    blob: bytes
    stage: int


OrderKey = tuple[int, int, str]


def _same_blob(blob: bytes) -> Callable[[bytes], bool]:
    def same(b2: bytes) -> bool:
        return b2 == blob

    return same


def _holds_secret(holds: dict[bytes, frozenset[str]], s: str) -> Callable[[bytes], bool]:
    def same(b2: bytes) -> bool:
        return s in holds.get(b2, ())

    return same


Reached = tuple[set[bytes], set[bytes], bytes | None, dict[str, bytes], dict[str, bytes], dict[str, bytes]]


class Sweep:
    """One full sweep of a repository (ARCHITECTURE.md §4 "Full sweep")."""

    def __init__(
        self,
        repo: pygit2.Repository,
        matcher: Matcher,
        spec: PoolSpec,
        progress: Progress,
        prefix: bytes = b"",
        index: Sequence[IndexEntry] | Callable[[], Sequence[IndexEntry]] = (),
        cache: HistoryCache | None = None,
        meanwhile: Callable[[], SourceResult] | None = None,
    ) -> None:
        self.repo = repo
        self.meanwhile = meanwhile  # other work for this process while the workers read objects
        self.meanwhile_result: SourceResult | None = None
        self.matcher = matcher
        self.spec = spec
        self.progress = progress
        self.prefix = prefix
        self._index = index  # parsed when first needed: an unchanged cached sweep never does
        self._reached: Reached | None = None
        self.res = SourceResult()
        self.commits: dict[bytes, CommitMeta] = {}
        self.commit_hits: dict[bytes, Hits] = {}
        self.tags: dict[bytes, TagMeta] = {}
        self.tag_hits: dict[bytes, Hits] = {}
        self.matched: dict[bytes, Hits] = {}
        self.holds: dict[bytes, frozenset[str]] = {}
        self.unreadable: set[bytes] = set()
        self.known_blobs: set[bytes] = set()
        self.known_trees: set[bytes] = set()
        self.listing = Listing()
        self.crew: Crew | None = None
        self.local: SweepWorker | None = None
        self.unread_trees: set[bytes] = set()
        self.closure: set[bytes] = set()
        self.origins: list[tuple[str, bytes]] = []  # what each Found was read from (for the cache)
        self.exact = True  # every tree entry was checked for a missing object
        self._early: list[bytes] | None = None  # targets of a tree pass started before the merge
        self._tree_chunks: list[tuple[int, bytes, bytes]] | None = None  # every chunk's trees, shared out
        self._absent: dict[tuple[bytes, bytes], bool] = {}
        self._ab: tuple[tuple[int, int, int], list[tuple[str, str]], dict[str, int]] = ((0, 0, 0), [], {})
        self.cache = cache
        self.shallow = shallow_commits(repo)
        self.gen: dict[bytes, int] = {}
        self._views: dict[bytes, View] = {}
        self.trees: Trees | None = None

    # -- phase A ---------------------------------------------------------------------------

    def read_objects(self) -> None:
        res = self.res
        listing = list_objects(_objects_dirs(self.repo))
        if listing is None:  # an index this reader does not know: let libgit2 list and type everything
            listing = Listing(loose=list(dict.fromkeys(o.raw for o in self.repo.odb)))
            listing.total = len(listing.loose)
        self.listing = listing
        res.objects = listing.total
        workers = self.spec.workers if listing.total >= POOL_MIN_OBJECTS else 1
        chunks = split_chunks(listing, max(1, workers), CHUNK_OBJECTS)
        done = {"objects": 0, "trees": 0}

        def tick(phase: str, count: int, _nbytes: int) -> None:
            done[phase] += count
            total = listing.total if phase == "objects" else len(self.known_trees)
            self.progress.update(phase, min(done[phase], total), total, res.nbytes)

        if workers > 1 and len(chunks) > 1:
            spec = self.spec
            crew_spec = CrewSpec(spec.gitdir, spec.rules, spec.engine, spec.serialized, spec.cap, spec.bad)
            self.crew = Crew(crew_spec, listing, chunks, _make_worker, tick)
            self.crew.send("objects")
            if self.meanwhile is not None:  # this process has nothing else to do until they are done
                self.meanwhile_result, self.meanwhile = self.meanwhile(), None
            batches: list[ObjectsDone] = self.crew.collect()
            if not (listing.promisor or self.shallow or bad_objects(self.repo)):
                # the workers start on their trees while this process takes in what they found
                targets: set[bytes] = set()
                for b in batches:
                    targets.update(o for o, _ in b.matched)
                    targets.update(o for o, _, _ in b.bad_blobs)
                    targets.update(o for o, t in b.corrupt if t in (0, OBJ_BLOB))
                self._early = sorted(targets)
                self._tree_chunks = sorted(c for b in batches for c in b.tree_chunks)
                self.crew.send("read_trees", self._early, None, self._tree_chunks)
        else:
            self.local = _sweep_worker(self.repo, self.matcher, self.spec.cap, listing, chunks[0], tick)
            batches = [self.local.objects()]
        self._merge_objects(batches)

    def _merge_objects(self, batches: Sequence[ObjectsDone]) -> None:
        res = self.res
        lfs = 0
        for b in batches:
            res.nbytes += b.nbytes
            res.blobs += b.blobs
            self.known_blobs.update(split_ids(b.blob_ids))
            for _k, ids, _at in b.tree_chunks:
                self.known_trees.update(split_ids(ids))
            for oid, size, status in b.bad_blobs:
                self.unreadable.add(oid)
                what = f"blob {oid.hex()}" + (f" ({size} bytes)" if status == TOO_LARGE else "")
                res.skip(status, what)
            for oid in b.lfs:
                lfs += 1
                if lfs <= 5:
                    res.skips.append(Skip(LFS_POINTER, f"blob {oid.hex()}"))
            for oid, hits in b.matched:
                self.matched[oid] = hits
                self.holds[oid] = frozenset(secret_key(m) for m, _ in hits if not m.pragma)
            for oid, (tree, parents, an, ae, at, cn, ce, ct), hits in b.commits:
                self.commits[oid] = CommitMeta(tree, parents, Signature(an, ae, at), Signature(cn, ce, ct))
                if hits:
                    self.commit_hits[oid] = hits
            for oid, tmeta, hits in b.tags:
                self.tags[oid] = tmeta
                if hits:
                    self.tag_hits[oid] = hits
            for oid, otype in b.corrupt:
                res.skip(CORRUPT, f"object {oid.hex()}")
                if otype in (0, OBJ_BLOB):
                    self.unreadable.add(oid)
        if lfs:
            res.skip_counts[LFS_POINTER] = res.skip_counts.get(LFS_POINTER, 0) + lfs
        res.commits = len(self.commits)

    def _may_lack_objects(self) -> bool:
        """Whether some object may be absent, so that every tree entry must be checked."""
        if self.listing.promisor or self.shallow or bad_objects(self.repo):
            return True
        known = self.known_trees
        for meta in self.commits.values():
            if meta.tree not in known or any(p not in self.commits for p in meta.parents):
                return True
        for tmeta in self.tags.values():
            t = tmeta.target
            if t not in self.commits and t not in self.tags and t not in known and t not in self.known_blobs:
                return True
        return False

    # -- phase B ---------------------------------------------------------------------------

    def read_trees(self) -> None:
        res = self.res
        exact = self.exact = self._may_lack_objects()
        targets = sorted(set(self.matched) | self.unreadable)
        early, self._early = self._early, None
        if self.crew is not None and early is not None:
            self._reached = self._reach()  # this process would only wait for the workers
        while True:
            known = frozenset(self.known_blobs | self.known_trees) if exact else None
            if self.crew is not None and early is not None:
                batches: list[TreesDone] = self.crew.collect()
                if exact or early != targets:  # the early pass does not fit what was merged: again
                    batches = self.crew.call("read_trees", targets, known, self._tree_chunks)
                early = None
            elif self.crew is not None:
                batches = self.crew.call("read_trees", targets, known, self._tree_chunks)
            else:
                assert self.local is not None
                batches = [self.local.read_trees(targets, known)]
            if exact or not self._subtree_missing(batches):
                break
            exact = self.exact = True  # a subtree is absent: check every entry of every tree
        direct, unread_trees = self._merge_trees(batches)
        self._closure(direct, unread_trees, set())
        self._close_workers()
        self._ab = (
            (res.objects, res.blobs, res.nbytes),
            [(s.reason, s.example) for s in res.skips],
            dict(res.skip_counts),
        )

    def _merge_trees(self, batches: Sequence[TreesDone]) -> tuple[set[bytes], set[bytes]]:
        res = self.res
        direct: set[bytes] = set()
        missing_blobs: set[bytes] = set()
        missing_trees: set[bytes] = set()
        gitlinks: set[bytes] = set()
        corrupt: set[bytes] = set()
        for b in batches:
            direct.update(b.direct)
            missing_blobs |= b.missing_blobs
            missing_trees |= b.missing_trees
            gitlinks |= b.gitlinks
            corrupt.update(b.corrupt)
        for meta in self.commits.values():
            if meta.tree not in self.known_trees and meta.tree not in self.unread_trees:
                missing_trees.add(meta.tree)
        for oid in sorted(missing_blobs | missing_trees):
            res.skip(MISSING, f"{'tree' if oid in missing_trees else 'blob'} {oid.hex()}")
        for oid in sorted(corrupt):
            res.skip(CORRUPT, f"tree {oid.hex()}")
        for oid in sorted(gitlinks):
            res.skip(GITLINK, f"commit {oid.hex()}")
        unread_trees = missing_trees | corrupt
        self.unreadable |= missing_blobs
        self.unread_trees |= unread_trees
        return direct, unread_trees

    def _closure(self, direct: set[bytes], unread: set[bytes], closure: set[bytes]) -> None:
        """Add to `closure` every tree that leads to `direct` or `unread` (asked level by level)."""
        closure |= direct
        frontier = sorted(closure | unread)
        while frontier:
            if self.crew is not None:
                found: set[bytes] = set()
                for got in self.crew.call("parents", frontier):
                    found.update(got)
            else:
                assert self.local is not None
                found = set(self.local.parents(frontier))
            frontier = sorted(found - closure)
            closure.update(frontier)
        self.closure = closure
        interesting = set(self.matched) | self.unreadable
        self.trees = Trees(self.repo, closure, interesting, self.unread_trees)

    def _subtree_missing(self, batches: Sequence[TreesDone]) -> bool:
        """Whether a subtree link names an absent tree (checked on the naming tree's entries)."""
        for b in batches:
            for child, parent in b.foreign.items():
                if child in self.known_trees:
                    continue
                entries = read_tree(self.repo, parent) or []
                if any(m == MODE_TREE and bytes(o) == child for m, _n, o in entries):
                    return True
        return False

    def _close_workers(self) -> None:
        if self.crew is not None:
            self.crew.close()
            self.crew = None
        if self.local is not None:
            self.local.close()

    # -- provenance ------------------------------------------------------------------------

    def view(self, commit: bytes) -> View:
        """Interesting blobs of `commit`'s tree by path (whole tree; the PATH filter comes later)."""
        v = self._views.get(commit)
        if v is not None:
            return v
        assert self.trees is not None
        meta = self.commits.get(commit)
        if meta is None:
            return EMPTY_VIEW
        entries = self.trees.of(meta.tree)
        if not entries:
            v = EMPTY_VIEW
        else:
            v = View(
                {p: o for p, o, k in entries if k == K_BLOB},
                tuple(p for p, _, k in entries if k == K_UNREAD),
            )
        self._views[commit] = v
        return v

    def scoped(self, commit: bytes) -> View:
        v = self.view(commit)
        if not self.prefix or v is EMPTY_VIEW:
            return v
        pre = self.prefix
        return View(
            {p: o for p, o in v.blobs.items() if under(p, pre)},
            tuple(d for d in v.unread if under(d, pre) or under(pre, d)),
        )

    def key(self, c: bytes) -> OrderKey:
        return (self.gen.get(c, 1), self.commits[c].committer.time, c.hex())

    def last_key(self, c: bytes) -> OrderKey:
        return (self.commits[c].committer.time, self.gen.get(c, 1), c.hex())

    def parents_unread(self, c: bytes) -> bool:
        return c in self.shallow or any(p not in self.commits for p in self.commits[c].parents)

    def run(self) -> SourceResult:
        """The sweep (scanner/gcpause.py: its tables are millions of acyclic objects)."""
        with paused_gc():
            return self._run()

    def _run(self) -> SourceResult:
        res = self.res
        saved = self.cache.load() if self.cache is not None else None
        state = self._state() if self.cache is not None else ""
        if saved is not None and saved.get("state") == state:
            try:
                done = self._reuse(saved)
            except (KeyError, ValueError, TypeError):
                done = None
            if done is not None:
                return done
            self.res = res = SourceResult()
        try:
            if saved is None or not self._resume_safely(saved):
                self.res = res = SourceResult()
                self.read_objects()
                self.read_trees()
        finally:
            self._close_workers()
        self._finish()
        if self.cache is not None:
            self.cache.save(self._dump(state))
        return res

    def _finish(self) -> None:
        reached = self._reached if self._reached is not None else self._reach()
        reachable, reach_tags, head, ref_commit, ref_tree, ref_blob = reached
        res = self.res
        prov = self._provenance(reachable, reach_tags, head, ref_commit, ref_tree, ref_blob)
        res.provenance = prov
        self._places(reachable, reach_tags, head, ref_tree, ref_blob)
        res.sources = {"history": res.blobs, "message": len(self.commits) + len(self.tags)}

    def _reach(self) -> Reached:
        """Generation numbers, refs and what they reach: commits and refs only, no trees (so it
        runs while the workers read the trees)."""
        res = self.res
        self.gen = generations(self.commits)
        for c in sorted(self.shallow):
            if c in self.commits:
                res.skip(SHALLOW, f"commit {c.hex()}")
        refs, broken = list_refs(self.repo)
        for name in broken:
            res.skip(MISSING, f"ref {name}")
        head = head_commit(self.repo)
        res.head = head

        # reachability from refs and HEAD
        tips: list[tuple[str | None, bytes]] = [(r.name, r.target) for r in refs]
        if head is not None:
            tips.append((None, head))
        reach_tags: set[bytes] = set()
        ref_commit: dict[str, bytes] = {}
        ref_tree: dict[str, bytes] = {}
        ref_blob: dict[str, bytes] = {}
        starts: list[bytes] = []
        for tip_name, target in tips:
            obj, crossed, ok = self._peel(target)
            reach_tags.update(crossed)
            if not ok:
                res.skip(MISSING, f"{tip_name or 'HEAD'} → {obj.hex()}")
                continue
            if obj in self.commits:
                starts.append(obj)
                if tip_name is not None:
                    ref_commit[tip_name] = obj
            elif tip_name is not None and obj in self.trees_set():
                ref_tree[tip_name] = obj
            elif tip_name is not None and obj in self.known_blobs:
                ref_blob[tip_name] = obj
        reachable: set[bytes] = set()
        stack = list(starts)
        while stack:
            c = stack.pop()
            if c in reachable:
                continue
            reachable.add(c)
            if c in self.shallow:
                continue
            for p in self.commits[c].parents:
                if p in self.commits:
                    stack.append(p)
                elif p not in reachable:
                    res.skip(MISSING, f"commit {p.hex()}")
        self.reachable = reachable
        return reachable, reach_tags, head, ref_commit, ref_tree, ref_blob

    # -- the cache (scanner/cache.py): nothing that holds a secret is written -----------------------

    def _state(self) -> str:
        """A digest of everything a sweep's result depends on besides the objects' contents."""
        h = hashlib.sha256()
        for objects in _objects_dirs(self.repo):
            h.update(os.fsencode(str(objects)) + b"\x00")
            try:
                packs = sorted((e.name, e.stat().st_size) for e in os.scandir(objects / "pack"))
            except OSError:
                packs = []
            h.update(repr(packs).encode())
            for oid in loose_ids(objects):
                h.update(oid)
        refs, broken = list_refs(self.repo)
        h.update(repr([(r.name, r.target) for r in refs]).encode())
        h.update(
            repr(
                (broken, head_commit(self.repo), sorted(self.shallow), sorted(bad_objects(self.repo)))
            ).encode()
        )
        from scanner.sources.staged import index_bytes

        raw = index_bytes(self.repo)  # the file itself: a refreshed stat cache only costs a resume
        h.update(b"-" if raw is None else hashlib.sha256(raw).digest())
        return h.hexdigest()

    @property
    def index(self) -> Sequence[IndexEntry]:
        if callable(self._index):
            self._index = self._index()
        return self._index

    def _rescan(self, kind: str, oid: bytes) -> Hits | None:
        """The matches of a text the cache names (None: it cannot be read any more)."""
        try:
            _, data = read_raw(self.repo, oid)
            if kind == "blob":
                return scan_text(self.matcher, data)
            message = parse_commit(data)[1] if kind == "commit" else parse_tag(data)[1]
        except (pygit2.GitError, KeyError, ValueError, OSError, IndexError):
            return None
        return scan_text(self.matcher, message)

    def _dump(self, state: str) -> dict[str, Any]:
        res = self.res
        prov = {digest(k): v for k, v in res.provenance.items()}
        founds = [
            (kind, oid, found.places) for (kind, oid), found in zip(self.origins, res.founds, strict=True)
        ]
        counters = (res.head, res.commits, res.objects, res.blobs, res.nbytes, res.files, res.sources)
        ab = self._ab
        tags = {
            t: (m.target, m.target_type, m.name, _sig_tuple(m.tagger) if m.tagger else None)
            for t, m in self.tags.items()
        }
        commits = {
            c: (m.tree, m.parents, *_sig_tuple(m.author), *_sig_tuple(m.committer))
            for c, m in self.commits.items()
        }
        return {
            "state": state,
            "result": (founds, prov, counters, list(res.skips), dict(res.skip_counts)),
            "inter": {
                "commits": commits,
                "tags": tags,
                "blobs": b"".join(self.known_blobs),
                "trees": b"".join(self.known_trees),
                "unreadable": sorted(self.unreadable),
                "matched": sorted(self.matched),
                "commit_hits": sorted(self.commit_hits),
                "tag_hits": sorted(self.tag_hits),
                "closure": b"".join(self.closure),
                "unread_trees": sorted(self.unread_trees),
                "ab": ab,
                "packs": [p.name for p in self.listing.packs],
            },
        }

    def _reuse(self, saved: dict[str, Any]) -> SourceResult | None:
        """The cached result of an unchanged repository, its texts scanned again."""
        founds, prov, counters, skips, skip_counts = saved["result"]
        res = SourceResult()
        res.head, res.commits, res.objects, res.blobs, res.nbytes, res.files, res.sources = counters
        res.skips = list(skips)
        res.skip_counts = dict(skip_counts)
        for kind, oid, places in founds:
            hits = self._rescan(kind, oid)
            if not hits:
                return None
            res.founds.append(Found(hits, places))
            for m, _ in hits:
                got = prov.get(digest(secret_key(m)))
                if got is not None:
                    res.provenance[secret_key(m)] = got
        return res

    def _resume_safely(self, saved: dict[str, Any]) -> bool:
        try:
            return self._resume(saved)
        except (KeyError, ValueError, TypeError):
            return False  # a cache of another shape: sweep it all

    def _resume(self, saved: dict[str, Any]) -> bool:
        """Phases A and B from the cache plus the objects added since; False: sweep it all."""
        inter = saved["inter"]
        n_before, skips_before, counts_before = inter["ab"]
        if any(r in counts_before for r in (MISSING, CORRUPT)) or self.listing.promisor or self.shallow:
            return False
        known: set[bytes] = set()
        for key in ("blobs", "trees"):
            blob = inter[key]
            known.update(split_ids(blob))
        commits = {
            c: CommitMeta(tree, parents, Signature(an, ae, at), Signature(cn, ce, ct))
            for c, (tree, parents, an, ae, at, cn, ce, ct) in inter["commits"].items()
        }
        tags = {
            t: TagMeta(target, ttype, name, Signature(*tagger) if tagger else None)
            for t, (target, ttype, name, tagger) in inter["tags"].items()
        }
        known.update(commits)
        known.update(tags)
        known.update(inter["unreadable"])
        listing = list_objects(_objects_dirs(self.repo), order=False)
        if listing is None or listing.promisor:
            return False
        new: list[bytes] = []
        seen_packs = set(inter["packs"])
        for p in listing.packs:
            if p.name in seen_packs:
                continue  # a pack is named by its content: every object in it was swept
            new.extend(o for o in split_ids(p.ids) if o not in known)
        new.extend(o for o in listing.loose if o not in known)
        new = list(dict.fromkeys(new))
        if len(new) > RESUME_MAX_NEW:
            return False
        # what the cache says
        res = self.res
        res.objects, res.blobs, res.nbytes = n_before
        res.skips = [Skip(r, e) for r, e in skips_before]
        res.skip_counts = dict(counts_before)
        self.listing = listing
        self.commits = commits
        self.tags = tags
        blobs, trees = inter["blobs"], inter["trees"]
        self.known_blobs = set(split_ids(blobs))
        self.known_trees = set(split_ids(trees))
        self.unreadable = set(inter["unreadable"])
        self.unread_trees = set(inter["unread_trees"])
        for blob in inter["matched"]:
            hits = self._rescan("blob", blob)
            if hits is None:
                return False
            self.matched[blob] = hits
            self.holds[blob] = frozenset(secret_key(m) for m, _ in hits if not m.pragma)
        for kind, ids_, into in (
            ("commit", inter["commit_hits"], self.commit_hits),
            ("tag", inter["tag_hits"], self.tag_hits),
        ):
            for oid in ids_:
                hits = self._rescan(kind, oid)
                if hits is None:
                    return False
                into[oid] = hits
        self.exact = False  # the cached trees were not all checked entry by entry
        # the new objects, read in this process (they are few)
        sub = Listing(loose=new, total=len(new))
        res.objects += len(new)
        self.local = _sweep_worker(
            self.repo, self.matcher, self.spec.cap, sub, sub.chunks(CHUNK_OBJECTS), _no_tick
        )
        self._merge_objects([self.local.objects()])
        res.commits = len(self.commits)
        targets = sorted(set(self.matched) | self.unreadable)
        direct, unread = self._merge_trees([self.local.read_trees(targets, None)])
        closure = set(split_ids(inter["closure"]))
        self._closure(direct, unread, closure)
        self._ab = (
            (res.objects, res.blobs, res.nbytes),
            [(s.reason, s.example) for s in res.skips],
            dict(res.skip_counts),
        )
        return True

    def trees_set(self) -> set[bytes]:
        return self.known_trees

    def _peel(self, raw: bytes) -> tuple[bytes, list[bytes], bool]:
        crossed: list[bytes] = []
        seen: set[bytes] = set()
        while raw in self.tags and raw not in seen:
            seen.add(raw)
            crossed.append(raw)
            raw = self.tags[raw].target
        ok = raw in self.commits or raw in self.known_blobs or raw in self.trees_set()
        return raw, crossed, ok

    def _tag_key(self, t: bytes) -> OrderKey:
        """A tag message is dated by its tagger and ordered just after the commit it tags."""
        meta = self.tags[t]
        target, _, _ = self._peel(t)
        return (self.gen.get(target, 0) + 1, meta.tagger.time if meta.tagger else 0, t.hex())

    def _ref(self, oid: bytes) -> CommitRef:
        meta = self.commits.get(oid)
        if meta is not None:
            return commit_ref(oid, meta)
        tagger = self.tags[oid].tagger
        tm = tagger.time if tagger else 0
        return CommitRef(
            commit=oid.hex(),
            author=tagger.name if tagger else "",
            email=tagger.email if tagger else "",
            author_time=iso(tm),
            commit_time=iso(tm),
        )

    def _intro(self, c: bytes, path: bytes, same: Callable[[bytes], bool]) -> int:
        """0: `c` introduces at `path`; 1: a read parent has it; 2: cannot tell (a parent unread)."""
        unread = self.parents_unread(c)
        for p in self.commits[c].parents:
            if p not in self.commits:
                continue
            pv = self.scoped(p)
            b2 = pv.blobs.get(path)
            if b2 is not None and same(b2):
                return 1
            if pv.unknown_at(path, self.unreadable):
                unread = True
        if not unread and not self.exact:
            unread = any(self._absent_at(p, path) for p in self.commits[c].parents if p in self.commits)
        return 2 if unread else 0

    def _absent_at(self, commit: bytes, path: bytes) -> bool:
        """Whether `commit`'s tree names an object at `path` (or on the way) that is not here.
        Trees were not checked entry by entry (the repository had no sign of missing objects),
        so an introduction is confirmed on the parents' own entries."""
        key = (commit, path)
        got = self._absent.get(key)
        if got is None:
            from scanner.sources.staged import lookup

            blob, readable = lookup(self.repo, self.commits[commit].tree, path)
            got = not readable or (blob is not None and blob not in self.known_blobs)
            if got:
                what = f"blob {blob.hex()}" if blob is not None else f"tree on the way to {display(path)}"
                self.res.skip(MISSING, f"{what} (at {display(path)} in {commit.hex()})")
            self._absent[key] = got
        return got

    def _provenance(
        self,
        reachable: set[bytes],
        reach_tags: set[bytes],
        head: bytes | None,
        ref_commit: dict[str, bytes],
        ref_tree: dict[str, bytes],
        ref_blob: dict[str, bytes],
    ) -> dict[str, Provenance]:
        first: dict[str, tuple[OrderKey, bytes]] = {}
        last: dict[str, tuple[OrderKey, bytes]] = {}
        truncated: set[str] = set()
        holds = self.holds

        def offer_first(s: str, k: OrderKey, oid: bytes) -> None:
            cur = first.get(s)
            if cur is None or k < cur[0]:
                first[s] = (k, oid)

        def offer_last(s: str, k: OrderKey, oid: bytes) -> None:
            cur = last.get(s)
            if cur is None or k > cur[0]:
                last[s] = (k, oid)

        # blob-level introductions, for locations
        self.loc_best: dict[tuple[bytes, bytes], tuple[int, OrderKey, bytes]] = {}
        for c in reachable:
            v = self.scoped(c)
            if not v.blobs:
                continue
            self.commits[c]
            here: set[str] = set()
            for path, blob in v.blobs.items():
                ss = holds.get(blob)
                if ss is None:
                    continue
                # the location: the first commit that introduced this blob at this path
                st = self._intro(c, path, _same_blob(blob))
                if st != 1:
                    cand = (0 if st == 0 else 1, self.key(c), c)
                    cur = self.loc_best.get((path, blob))
                    if cur is None or cand < cur:
                        self.loc_best[(path, blob)] = cand
                for s in ss:
                    here.add(s)
                    st = self._intro(c, path, _holds_secret(holds, s))
                    if st == 0:
                        offer_first(s, self.key(c), c)
                    elif st == 2:
                        truncated.add(s)
            for s in here:
                offer_last(s, self.last_key(c), c)
            # a blob held only outside the introduction test (parent has it) still needs a location
        if not self.prefix:
            for c, hits in self.commit_hits.items():
                if c not in reachable:
                    continue
                self.commits[c]
                for m, _ in hits:
                    if m.pragma:
                        continue
                    s = secret_key(m)
                    offer_first(s, self.key(c), c)
                    offer_last(s, self.last_key(c), c)
            for t, hits in self.tag_hits.items():
                if t not in reach_tags:
                    continue
                k = self._tag_key(t)
                lk = (k[1], k[0], k[2])
                for m, _ in hits:
                    if m.pragma:
                        continue
                    s = secret_key(m)
                    offer_first(s, k, t)
                    offer_last(s, lk, t)

        at_head: set[str] | None = None
        if head is not None and head in self.commits:
            at_head = self._secrets_of(self.scoped(head))
        at_ref: dict[str, set[str]] = {}
        for name, c in ref_commit.items():
            at_ref[name] = self._secrets_of(self.scoped(c))
        assert self.trees is not None
        for name, t in ref_tree.items():
            entries = self.trees.of(t)
            at_ref[name] = self._secrets_of(
                View({p: o for p, o, k in entries if k == K_BLOB and under(p, self.prefix)}, ())
            )
        for name, b in ref_blob.items():
            at_ref[name] = set(holds.get(b, ())) if not self.prefix else set()

        keys: set[str] = set()
        for ss in holds.values():
            keys |= ss
        for hits in (*self.commit_hits.values(), *self.tag_hits.values()):
            keys.update(secret_key(m) for m, _ in hits)
        out: dict[str, Provenance] = {}
        for s in keys:
            trunc = s in truncated
            f = None if trunc else first.get(s)
            lst = last.get(s)
            out[s] = Provenance(
                first_seen=self._ref(f[1]) if f else None,
                last_seen=self._ref(lst[1]) if lst else None,
                present_at_head=None if at_head is None else s in at_head,
                present_at_refs=tuple(sorted(n for n, ss in at_ref.items() if s in ss)),
                first_seen_truncated=trunc,
            )
        return out

    def _secrets_of(self, v: View) -> set[str]:
        out: set[str] = set()
        for b in v.blobs.values():
            out |= self.holds.get(b, frozenset())
        return out

    def _places(
        self,
        reachable: set[bytes],
        reach_tags: set[bytes],
        head: bytes | None,
        ref_tree: dict[str, bytes],
        ref_blob: dict[str, bytes],
    ) -> None:
        res = self.res
        places: dict[bytes, list[Place]] = {b: [] for b in self.matched}
        for (path, blob), (_, _, c) in sorted(self.loc_best.items()):
            places[blob].append(Place("history", path, blob, c, self.commits[c].committer.time))
        located = {blob for (_, blob) in self.loc_best}
        # blobs held by reachable commits but never introduced at a path (a parent always had it)
        # cannot exist: the walk down the ancestry ends at an introducer or an unread parent.
        assert self.trees is not None
        for _name, t in sorted(ref_tree.items()):
            for p, o, kind in self.trees.of(t):
                if kind == K_BLOB and o in places and under(p, self.prefix):
                    places[o].append(Place("history", p, o))
                    located.add(o)
        for name, b in sorted(ref_blob.items()):
            if b in places and not self.prefix:
                places[b].append(Place("history", name.encode(), b))
                located.add(b)
        # held anywhere reachable (outside PATH included): not unreachable
        held: set[bytes] = set(located)
        for c in reachable:
            held.update(o for o in self.view(c).blobs.values() if o in places)
        for t in ref_tree.values():
            held.update(o for _, o, k in self.trees.of(t) if o in places)
        held.update(b for b in ref_blob.values() if b in places)
        # the index: staged blobs (not those HEAD holds at the same path)
        head_view = self.view(head) if head is not None and head in self.commits else EMPTY_VIEW
        for e in self.index:
            if e.blob in places and head_view.blobs.get(e.path) != e.blob:
                if under(e.path, self.prefix):
                    places[e.blob].append(Place("staged", e.path, e.blob))
                held.add(e.blob)
            elif e.blob in places:
                held.add(e.blob)
        # unreachable: this repository's own objects that nothing reaches
        own = own_odb(self.repo)
        unreach_commits = [c for c in self.commits if c not in reachable and own.exists(pygit2.Oid(raw=c))]
        for blob in places:
            if blob in held or not own.exists(pygit2.Oid(raw=blob)):
                continue
            best: dict[bytes, tuple[int, str, bytes]] = {}
            k: tuple[int, str, bytes]
            for c in unreach_commits:
                b_at = self.view(c).blobs
                for p, o in b_at.items():
                    if o == blob and under(p, self.prefix):
                        k = (self.commits[c].committer.time, c.hex(), c)
                        if p not in best or k < best[p]:
                            best[p] = k
            if best:
                for p, (ct, _, cid) in sorted(best.items()):
                    places[blob].append(Place("unreachable", p, blob, cid, ct))
            elif not self.prefix:
                places[blob].append(Place("unreachable", b"blob:" + blob.hex().encode(), blob))
        for blob, pl in places.items():
            if pl:
                res.founds.append(Found(self.matched[blob], pl))
                self.origins.append(("blob", blob))
        if self.prefix:
            return
        for c, hits in sorted(self.commit_hits.items()):
            path = b"commit:" + c.hex().encode()
            ctime = self.commits[c].committer.time
            if c in reachable:
                res.founds.append(Found(hits, [Place("message", path, None, c, ctime)]))
                self.origins.append(("commit", c))
            elif own.exists(pygit2.Oid(raw=c)):
                res.founds.append(Found(hits, [Place("unreachable", path, None, c, ctime)]))
                self.origins.append(("commit", c))
        for t_id, hits in sorted(self.tag_hits.items()):
            meta = self.tags[t_id]
            path = b"tag:" + meta.name
            tm = meta.tagger.time if meta.tagger else None
            if t_id in reach_tags:
                res.founds.append(Found(hits, [Place("message", path, None, t_id, tm)]))
                self.origins.append(("tag", t_id))
            elif own.exists(pygit2.Oid(raw=t_id)):
                res.founds.append(Found(hits, [Place("unreachable", path, None, t_id, tm)]))
                self.origins.append(("tag", t_id))


# ----------------------------------------------------------------------------------------------
# tree walks shared by the tree scan and the range scan


def read_tree(repo: pygit2.Repository, tree: bytes) -> list[tuple[bytes, bytes, bytes]] | None:
    try:
        _, data = read_raw(repo, tree)
    except (pygit2.GitError, KeyError, ValueError, OSError):
        return None
    return tree_entries(data)


def walk_tree(
    repo: pygit2.Repository, tree: bytes, prefix: bytes, res: SourceResult, base: bytes = b""
) -> Iterator[tuple[bytes, bytes]]:
    """(path, blob) of every blob under `tree` within `prefix`; unreadable trees and gitlinks counted."""
    stack = [(tree, base)]
    while stack:
        t, b = stack.pop()
        entries = read_tree(repo, t)
        if entries is None:
            reason = MISSING if not repo.odb.exists(pygit2.Oid(raw=t)) else CORRUPT
            res.skip(reason, f"tree {t.hex()} ({display(b) or '/'})")
            continue
        for mode, name, oid in entries:
            path = b + name
            if mode == MODE_TREE:
                if under(path, prefix) or under(prefix, path):
                    stack.append((bytes(oid), path + b"/"))
            elif mode == MODE_GITLINK:
                if under(path, prefix):
                    res.skip(GITLINK, f"{display(path)} → {bytes(oid).hex()}")
            elif under(path, prefix):
                yield path, bytes(oid)


def tree_scan(
    repo: pygit2.Repository, matcher: Matcher, spec: PoolSpec, progress: Progress, prefix: bytes
) -> SourceResult:
    """`--no-history`: every blob of HEAD's tree, each scanned once."""
    res = SourceResult()
    head = head_commit(repo)
    res.head = head
    if head is None:
        return res
    try:
        _, data = read_raw(repo, head)
        meta, _message = parse_commit(data)
    except (pygit2.GitError, KeyError, ValueError, OSError):
        res.skip(MISSING, f"commit {head.hex()} (HEAD)")
        return res
    res.commits = 1
    paths: dict[bytes, list[bytes]] = {}
    for path, blob in walk_tree(repo, meta.tree, prefix, res):
        paths.setdefault(blob, []).append(path)
    local = Worker(repo, matcher, spec.cap)
    keys: set[str] = set()
    for batch in run_objects(local, spec, list(paths), progress, "blobs"):
        res.nbytes += batch.nbytes
        for br in batch.blobs:
            if br.status != "ok":
                res.skip(br.status, f"{display(paths[br.oid][0])} (blob {br.oid.hex()})")
                continue
            res.blobs += 1
            if br.lfs:
                res.skip(LFS_POINTER, display(paths[br.oid][0]))
            if br.hits:
                places = [
                    Place("history", p, br.oid, head, meta.committer.time) for p in sorted(paths[br.oid])
                ]
                res.founds.append(Found(br.hits, places))
                keys.update(secret_key(m) for m, _ in br.hits)
        for raw, otype in batch.corrupt:
            res.skip(CORRUPT, f"{'blob' if otype in (0, OBJ_BLOB) else 'object'} {raw.hex()}")
    res.objects = len(paths)
    res.files = sum(len(v) for v in paths.values())
    res.provenance = {k: Provenance(present_at_head=True) for k in keys}
    res.sources = {"history": res.blobs}
    return res


# ----------------------------------------------------------------------------------------------
# the range scan (ARCHITECTURE.md §4 "Range")

_HEX = re.compile(r"^[0-9a-fA-F]{4,40}$")
_BAD_REV = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
FETCH_HINT = "fetch the full history (actions/checkout with `fetch-depth: 0`)"


def parse_range(expr: str) -> tuple[list[str], list[str]]:
    """(includes, excludes) of a rev-list expression `A..B` or `B ^REF…`."""
    from scanner.errors import RevisionError

    tokens = expr.split()
    if not tokens:
        raise RevisionError("empty --range expression")
    includes: list[str] = []
    excludes: list[str] = []
    for tok in tokens:
        if tok.startswith("^"):
            if len(tok) == 1:
                raise RevisionError(f"malformed --range expression {expr!r}")
            excludes.append(tok[1:])
        elif "..." in tok:
            raise RevisionError(f"malformed --range expression {expr!r}: use A..B or B ^REF")
        elif ".." in tok:
            a, b = tok.split("..", 1)
            if ".." in b:
                raise RevisionError(f"malformed --range expression {expr!r}")
            excludes.append(a or "HEAD")
            includes.append(b or "HEAD")
        else:
            includes.append(tok)
    if not includes:
        raise RevisionError(f"--range {expr!r} names no commit to scan")
    return includes, excludes


def resolve_rev(repo: pygit2.Repository, name: str) -> bytes:
    from scanner.errors import RevisionError

    if _HEX.match(name):
        try:
            obj = repo.revparse_single(name)
        except (KeyError, ValueError, pygit2.GitError):
            raise ScanError(f"commit {name} is not in this clone; {FETCH_HINT}") from None
    else:
        base = re.split(r"[~^@]", name, maxsplit=1)[0]
        if not base or _BAD_REV.search(base) or base.endswith((".", "/", ".lock")) or "//" in base:
            raise RevisionError(f"malformed revision {name!r}")
        try:
            obj = repo.revparse_single(name)
        except (KeyError, ValueError, pygit2.GitError):
            head = head_commit(repo) if base == "HEAD" else None
            if head is not None:
                rest = name[len(base) :]
                try:
                    obj = repo.revparse_single(head.hex() + rest)
                except (KeyError, ValueError, pygit2.GitError):
                    raise ScanError(f"{name} lies beyond this clone's history; {FETCH_HINT}") from None
                return bytes(obj.peel(pygit2.Commit).id.raw)
            if base != name and repo.is_shallow:
                try:
                    repo.revparse_single(base)
                except (KeyError, ValueError, pygit2.GitError):
                    pass
                else:
                    raise ScanError(
                        f"{name} lies beyond the shallow clone's boundary; {FETCH_HINT}"
                    ) from None
            raise RevisionError(f"unknown revision {name!r}") from None
    try:
        commit = obj.peel(pygit2.Commit)
    except (pygit2.GitError, ValueError, KeyError, TypeError):
        raise RevisionError(f"revision {name!r} does not name a commit") from None
    return bytes(commit.id.raw)


class _Commits:
    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo
        self.cache: dict[bytes, tuple[CommitMeta, bytes] | None] = {}

    def get(self, c: bytes) -> tuple[CommitMeta, bytes] | None:
        if c not in self.cache:
            try:
                _, data = read_raw(self.repo, c)
                self.cache[c] = parse_commit(data)
            except (pygit2.GitError, KeyError, ValueError, OSError, IndexError):
                self.cache[c] = None
        return self.cache[c]


def range_scan(
    repo: pygit2.Repository, matcher: Matcher, cap: int, expr: str, prefix: bytes = b""
) -> SourceResult:
    """What the commits of a range introduce (exit 2 for a bad expression, 3 for a missing base)."""
    from scanner.sources.staged import BlobScanner, blob_at, lookup

    includes, excludes = parse_range(expr)
    inc = [resolve_rev(repo, n) for n in includes]
    exc = [resolve_rev(repo, n) for n in excludes]
    res = SourceResult()
    res.head = inc[0]
    shallow = shallow_commits(repo)
    commits = _Commits(repo)
    in_range: dict[bytes, CommitMeta] = {}
    messages: dict[bytes, bytes] = {}
    walked = _range_walk(commits, inc, exc, shallow)
    if walked is not None:
        for c, (meta, message) in walked.items():
            in_range[c], messages[c] = meta, message
    else:  # committer times go backwards somewhere: walk all of the excluded side
        excluded: set[bytes] = set()
        stack = list(exc)
        while stack:
            c = stack.pop()
            if c in excluded:
                continue
            excluded.add(c)
            got = commits.get(c)
            if got is None or c in shallow:
                continue
            stack.extend(p for p in got[0].parents if p not in excluded)
        stack = [c for c in inc if c not in excluded]
        while stack:
            c = stack.pop()
            if c in in_range or c in excluded:
                continue
            got = commits.get(c)
            if got is None:
                raise ScanError(f"commit {c.hex()} of the range is missing from this clone; {FETCH_HINT}")
            if c in shallow:
                raise ScanError(
                    f"the range reaches the shallow clone's boundary at {c.hex()} before leaving it; {FETCH_HINT}"
                )
            in_range[c], messages[c] = got
            stack.extend(p for p in got[0].parents if p not in excluded and p not in in_range)

    res.commits = len(in_range)
    # depth within the range: 1 for commits whose parents all lie outside it
    depth: dict[bytes, int] = {}
    for c in in_range:
        if c in depth:
            continue
        st = [c]
        while st:
            x = st[-1]
            pend = [p for p in in_range[x].parents if p in in_range and p not in depth]
            if pend:
                st.extend(pend)
                continue
            st.pop()
            depth[x] = 1 + max((depth[p] for p in in_range[x].parents if p in in_range), default=0)

    scanner = BlobScanner(repo, matcher, cap, res)
    left_memo: dict[tuple[bytes, bytes], dict[str, bytes]] = {}

    def left_behind(ptree: bytes, tree: bytes) -> dict[str, bytes]:
        """secret → the first path (byte order) holding it among the blobs of the parent tree
        `ptree` that `tree` deletes or changes (for moved_from; cost follows the change)."""
        got = left_memo.get((ptree, tree))
        if got is not None:
            return got
        out: dict[str, bytes] = {}
        for path, blob in _gone(repo, ptree, tree):
            for k in scanner.keys(blob) or ():
                if k not in out or path < out[k]:
                    out[k] = path
        left_memo[(ptree, tree)] = out
        return out

    def order(c: bytes) -> OrderKey:
        return (depth[c], in_range[c].committer.time, c.hex())

    intro: dict[str, list[tuple[OrderKey, bytes, bytes | None, str | None]]] = {}  # key, commit, path, moved
    places: dict[tuple[bytes, bytes], tuple[OrderKey, bytes, set[str]]] = {}
    undecided: set[str] = set()
    for c, meta in in_range.items():
        ptrees: list[bytes | None] = []
        for p in meta.parents:
            pm = commits.get(p)
            ptrees.append(pm[0].tree if pm else None)
        for path, blob in _changed(repo, meta.tree, ptrees, prefix, res):
            hits = scanner.hits(blob, display(path))
            if not hits:
                continue
            keys = {secret_key(m) for m, _ in hits if not m.pragma}
            parent_keys: list[frozenset[str] | None] = []
            for pt in ptrees:
                pb, readable = lookup(repo, pt, path) if pt is not None else (None, False)
                parent_keys.append(scanner.keys(pb) if readable else None)
            for k in sorted(keys):
                if any(pk is not None and k in pk for pk in parent_keys):
                    continue
                if any(pk is None for pk in parent_keys):
                    undecided.add(k)
                    continue
                # a move: a parent held k at a path this commit deletes or changes (a copy, the
                # old path left as it was, is a new introduction)
                moved = None
                for pt in ptrees:
                    was = left_behind(pt, meta.tree).get(k) if pt is not None else None
                    if was is not None:
                        moved = display(was)
                        break
                intro.setdefault(k, []).append((order(c), c, path, moved))
                cur = places.get((path, blob))
                if cur is None or order(c) < cur[0]:
                    places[(path, blob)] = (order(c), c, (cur[2] if cur else set()) | {k})
                else:
                    cur[2].add(k)
        if not prefix:
            mh = scan_text(matcher, messages[c])
            res.nbytes += len(messages[c])
            if mh:
                res.founds.append(
                    Found(mh, [Place("message", b"commit:" + c.hex().encode(), None, c, meta.committer.time)])
                )
                for m, _ in mh:
                    if not m.pragma:
                        intro.setdefault(secret_key(m), []).append((order(c), c, None, None))
    for (path, blob), (_, c, keys) in sorted(places.items()):
        hits = scanner.hits(blob) or ()
        kept = tuple((m, p) for m, p in hits if secret_key(m) in keys)
        res.founds.append(Found(kept, [Place("history", path, blob, c, in_range[c].committer.time)]))
    # provenance, at the paths the range introduced (scope: range)
    refs, _ = list_refs(repo)
    tips: list[tuple[str, bytes]] = []
    for r in refs:
        try:
            obj_id = r.target
            for _ in range(16):
                otype, data = read_raw(repo, obj_id)
                if otype != OBJ_TAG:
                    break
                obj_id = parse_tag(data)[0].target
            if otype == OBJ_COMMIT:
                tips.append((r.name, parse_commit(data)[0].tree))
        except (pygit2.GitError, ValueError, KeyError, TypeError, AttributeError):
            continue
    head_meta = commits.get(inc[0])
    for k, lst in intro.items():
        lst.sort(key=lambda x: (x[0], x[2] or b"", x[3] or ""))
        paths = {p for _, _, p, _ in lst if p is not None}
        first_c = lst[0][1]
        moved = lst[0][3] if all(mv is not None for *_, mv in lst) else None

        def holds_at(tree: bytes | None, k: str = k, paths: set[bytes] = paths) -> bool:
            return tree is not None and any(k in (scanner.keys(blob_at(repo, tree, p)) or ()) for p in paths)

        last: tuple[tuple[int, int, str], bytes] | None = None
        for c, meta in in_range.items():
            if holds_at(meta.tree) or any(lc == c and lp is None for _, lc, lp, _ in lst):
                lk = (meta.committer.time, depth[c], c.hex())
                if last is None or lk > last[0]:
                    last = (lk, c)
        res.provenance[k] = Provenance(
            first_seen=commit_ref(first_c, in_range[first_c]),
            last_seen=commit_ref(last[1], in_range[last[1]]) if last else None,
            present_at_head=holds_at(head_meta[0].tree) if head_meta else None,
            present_at_refs=tuple(sorted(n for n, t in tips if holds_at(t))),
            moved_from=moved,
        )
    if undecided - set(intro):
        res.skip(MISSING, "a parent's blob needed to tell whether the range introduced a secret")
    res.sources = {"history": res.blobs}
    return res


def _range_walk(
    commits: _Commits, inc: list[bytes], exc: list[bytes], shallow: frozenset[bytes]
) -> dict[bytes, tuple[CommitMeta, bytes]] | None:
    """Commits reachable from `inc` and not from `exc`, walked newest first by committer time
    (git's limit_list), so that a small range reads a few commits, not the whole history. None
    when a parent is newer than its child on the way (then only a full walk is exact)."""
    import heapq

    uninteresting: set[bytes] = set()
    queued: set[bytes] = set()
    done: set[bytes] = set()
    heap: list[tuple[int, int, bytes]] = []
    counter = 0

    def push(c: bytes, un: bool) -> None:
        nonlocal counter
        if un:
            uninteresting.add(c)
        if c in queued:
            return
        queued.add(c)
        got = commits.get(c)
        counter += 1
        heapq.heappush(heap, (-(got[0].committer.time if got else -(1 << 62)), counter, c))

    for c in exc:
        push(c, True)
    for c in inc:
        push(c, False)
    out: dict[bytes, tuple[CommitMeta, bytes]] = {}
    pops = 0
    while heap:
        pops += 1
        if pops % 8 == 0 and all(c in uninteresting for _, _, c in heap):
            break
        _, _, c = heapq.heappop(heap)
        done.add(c)
        un = c in uninteresting
        got = commits.get(c)
        if got is None:
            if un:
                continue
            raise ScanError(f"commit {c.hex()} of the range is missing from this clone; {FETCH_HINT}")
        if c in shallow:
            if un:
                continue
            raise ScanError(
                f"the range reaches the shallow clone's boundary at {c.hex()} before leaving it; {FETCH_HINT}"
            )
        meta = got[0]
        if not un:
            out[c] = got
        for p in meta.parents:
            pg = commits.get(p)
            if pg is not None and pg[0].committer.time > meta.committer.time:
                return None
            if un and p in done and p not in uninteresting:
                return None  # processed as part of the range before this news arrived
            push(p, un)
    return {c: g for c, g in out.items() if c not in uninteresting}


def _changed(
    repo: pygit2.Repository,
    tree: bytes,
    parents: list[bytes | None],
    prefix: bytes,
    res: SourceResult,
    base: bytes = b"",
) -> Iterator[tuple[bytes, bytes]]:
    """(path, blob) of `tree` whose blob differs from every parent's blob at that path."""
    entries = read_tree(repo, tree)
    if entries is None:
        res.skip(MISSING if not repo.odb.exists(pygit2.Oid(raw=tree)) else CORRUPT, f"tree {tree.hex()}")
        return
    pentries: list[dict[bytes, tuple[bytes, bytes]]] = []
    for pt in parents:
        pe = read_tree(repo, pt) if pt is not None else []
        pentries.append({n: (m, bytes(o)) for m, n, o in pe or ()})
    for mode, name, oid in entries:
        path = base + name
        oid = bytes(oid)
        if mode == MODE_TREE:
            if not (under(path, prefix) or under(prefix, path)):
                continue
            subs = [pe[name][1] if name in pe and pe[name][0] == MODE_TREE else None for pe in pentries]
            if oid in subs:
                continue
            sub_parents: list[bytes | None] = list(subs)
            yield from _changed(repo, oid, sub_parents, prefix, res, path + b"/")
        elif mode == MODE_GITLINK or not under(path, prefix):
            continue
        elif not any(name in pe and pe[name][1] == oid and pe[name][0] != MODE_TREE for pe in pentries):
            yield path, oid


def _gone(
    repo: pygit2.Repository, old: bytes, new: bytes | None, base: bytes = b""
) -> Iterator[tuple[bytes, bytes]]:
    """(path, blob) of the blobs of tree `old` that tree `new` lacks or holds with another blob id
    (None: `new` has no tree there). Identical subtrees are skipped, so the cost follows the
    change; a part of either tree that cannot be read yields nothing (it proves no move)."""
    entries = read_tree(repo, old)
    if entries is None:
        return
    now: dict[bytes, tuple[bytes, bytes]] = {}
    if new is not None:
        new_entries = read_tree(repo, new)
        if new_entries is None:
            return
        now = {n: (m, bytes(o)) for m, n, o in new_entries}
    for mode, name, oid in entries:
        oid = bytes(oid)
        cur = now.get(name)
        if mode == MODE_TREE:
            sub = cur[1] if cur is not None and cur[0] == MODE_TREE else None
            if sub != oid:
                yield from _gone(repo, oid, sub, base + name + b"/")
        elif mode == MODE_GITLINK:
            continue
        elif cur is None or cur[0] in (MODE_TREE, MODE_GITLINK) or cur[1] != oid:
            yield base + name, oid
