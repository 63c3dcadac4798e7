"""The tree scan (`--no-history`, SARIF category `keysweep/tree`): every blob of HEAD's tree once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pygit2

from scanner.detect.engine import Matcher
from scanner.errors import ScanError
from scanner.git.objects import (
    OBJ_BLOB,
    is_lfs_pointer,
    parse_commit,
)
from scanner.git.packs import split_ids
from scanner.git.refs import head_commit
from scanner.git.repo import RepoSite, open_repository, read_header, read_raw
from scanner.git.trees import display, read_tree, walk_tree
from scanner.model import Provenance
from scanner.skips import CORRUPT, LFS_POINTER, MISSING, TOO_LARGE
from scanner.sources.base import (
    Found,
    Hits,
    Place,
    PoolSpec,
    Progress,
    ScanContext,
    SourceResult,
    scan_text,
    secret_id,
)
from scanner.sources.blobs import pool_spec
from scanner.sources.pool import Lane, Pool


@dataclass(slots=True)
class BlobResult:
    oid: bytes
    size: int
    status: str  # "ok" | MISSING | CORRUPT | TOO_LARGE
    hits: Hits = ()
    lfs: bool = False


@dataclass(slots=True)
class ObjectBatch:
    """What reading one slice of the tree's blobs found."""

    blobs: list[BlobResult] = field(default_factory=list)
    corrupt: list[tuple[bytes, int]] = field(default_factory=list)  # (id, type or 0)
    nbytes: int = 0
    count: int = 0


@dataclass(slots=True)
class BlobReader:
    """Reads and scans a list of blobs (in this process or in a pool's worker)."""

    repo: pygit2.Repository
    matcher: Matcher
    cap: int

    def read_objects(self, ids: bytes) -> ObjectBatch:
        out = ObjectBatch()
        for raw in split_ids(ids):
            out.count += 1
            try:
                otype, size = read_header(self.repo, raw)
            except KeyError:  # absent (a partial clone, a lost object): the tree scan names it missing
                out.blobs.append(BlobResult(raw, 0, MISSING))
                continue
            except (pygit2.GitError, ValueError, OSError):
                out.corrupt.append((raw, 0))
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
            else:  # the tree scan names blobs only: another type at a blob's place is damage
                out.corrupt.append((raw, otype))
        return out

    def scan_blob(self, raw: bytes, data: bytes) -> BlobResult:
        return BlobResult(raw, len(data), "ok", scan_text(self.matcher, data), is_lfs_pointer(data))


def make_blob_reader(spec: PoolSpec, lane: Lane) -> BlobReader:
    """A worker process's BlobReader (a pool's factory)."""
    repo = open_repository(Path(spec.gitdir), spec.bad)
    return BlobReader(repo, Matcher(spec.rules, spec.engine, spec.serialized), spec.cap)


def run_objects(
    local: BlobReader, spec: PoolSpec, ids: Sequence[bytes], progress: Progress, phase: str
) -> Iterator[ObjectBatch]:
    """Read and scan `ids`: in this process, or split across worker processes in list order."""
    chunks = _chunks(ids, spec.workers)
    total = len(ids)
    done = nbytes = 0
    if spec.workers <= 1 or len(chunks) <= 1:
        batches: Iterator[ObjectBatch] = (local.read_objects(c) for c in chunks)
        pool = None
    else:
        pool = Pool(make_blob_reader, spec, spec.workers)
        batches = pool.map(BlobReader.read_objects, chunks)
    try:
        for b in batches:
            done += b.count
            nbytes += b.nbytes
            progress.update(phase, done, total, nbytes)
            yield b
    finally:
        if pool is not None:
            pool.close()


def _chunks(ids: Sequence[bytes], workers: int) -> list[bytes]:
    n = len(ids)
    if n == 0:
        return []
    per = 4000 if workers <= 1 else max(64, min(4000, n // (workers * 8) + 1))
    return [b"".join(ids[i : i + per]) for i in range(0, n, per)]


def tree_scan(
    repo: pygit2.Repository, matcher: Matcher, spec: PoolSpec, progress: Progress, prefix: bytes
) -> SourceResult:
    """`--no-history`: every blob of HEAD's tree, each scanned once."""
    res = SourceResult()
    head = head_commit(repo)
    res.head = head
    if head is None:
        return res
    # HEAD's tree is the target of this mode: if it cannot be read the scan could not run (exit
    # 3), not an incomplete scan that passes
    try:
        _, data = read_raw(repo, head)
        meta, _message = parse_commit(data)
    except KeyError:
        raise ScanError(
            f"HEAD's commit {head.hex()} is missing from this repository (missing-object)"
        ) from None
    except (pygit2.GitError, ValueError, OSError, IndexError):
        raise ScanError(f"HEAD's commit {head.hex()} is damaged (corrupt-object)") from None
    if read_tree(repo, meta.tree) is None:
        what = (
            "missing from this repository (missing-object)"
            if not _exists(repo, meta.tree)
            else "damaged (corrupt-object)"
        )
        raise ScanError(f"HEAD's tree {meta.tree.hex()} (commit {head.hex()}) is {what}")
    res.commits = 1
    paths: dict[bytes, list[bytes]] = {}
    for path, blob in walk_tree(repo, meta.tree, prefix, res.skip):
        paths.setdefault(blob, []).append(path)
    local = BlobReader(repo, matcher, spec.cap)
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
                    Place("history", p, br.oid, head, meta.committer.time, at_head=True)
                    for p in sorted(paths[br.oid])
                ]
                res.founds.append(Found(br.hits, places))
                keys.update(secret_id(m) for m, _ in br.hits)
        for raw, otype in batch.corrupt:
            res.skip(CORRUPT, f"{'blob' if otype in (0, OBJ_BLOB) else 'object'} {raw.hex()}")
    res.objects = len(paths)
    res.files = sum(len(v) for v in paths.values())
    res.provenance = {k: Provenance(present_at_head=True) for k in keys}
    res.sources = {"history": res.blobs}
    return res


def _exists(repo: pygit2.Repository, oid: bytes) -> bool:
    try:
        return bool(repo.odb.exists(pygit2.Oid(raw=oid)))
    except (pygit2.GitError, ValueError):
        return False


class TreeSource:
    """HEAD's tree (`--no-history`)."""

    def __init__(self, repo: pygit2.Repository, site: RepoSite) -> None:
        self.repo = repo
        self.site = site

    def scan(self, ctx: ScanContext) -> SourceResult:
        spec = pool_spec(self.repo, ctx.rules, ctx.matcher, ctx.blob_cap, ctx.workers)
        return tree_scan(self.repo, ctx.matcher, spec, ctx.progress, self.site.prefix)
