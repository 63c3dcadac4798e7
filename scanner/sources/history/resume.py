"""The full sweep's side of the history cache (cache.py here): what a repository's state is,
what is written (never a secret: secrets are keyed by digest, matched texts are read again), and
how an unchanged repository's result is rebuilt.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import pygit2

from scanner.detect.engine import Matcher
from scanner.git.objects import Signature, parse_commit, parse_tag
from scanner.git.packs import loose_ids
from scanner.git.refs import head_commit, list_refs
from scanner.git.repo import bad_objects, index_bytes, objects_dirs, read_raw
from scanner.sources.base import Found, Hits, Place, SourceResult, scan_text, secret_id
from scanner.sources.history.cache import CacheData, CachedFound, CachedPlace, CachedResult, SweepTables
from scanner.sources.history.tables import Tables


def sig_tuple(sig: Signature) -> tuple[str, str, int]:
    return sig.name, sig.email, sig.time


def state_digest(repo: pygit2.Repository, shallow: frozenset[bytes]) -> str:
    """A digest of everything a sweep's result depends on besides the objects' contents."""
    h = hashlib.sha256()
    for objects in objects_dirs(repo):
        h.update(os.fsencode(str(objects)) + b"\x00")
        try:
            packs = sorted((e.name, e.stat().st_size) for e in os.scandir(objects / "pack"))
        except OSError:
            packs = []
        h.update(repr(packs).encode())
        for oid in loose_ids(objects):
            h.update(oid)
    refs, broken = list_refs(repo)
    h.update(repr([(r.name, r.target) for r in refs]).encode())
    h.update(repr((broken, head_commit(repo), sorted(shallow), sorted(bad_objects(repo)))).encode())
    raw = index_bytes(repo)  # the file itself: a refreshed stat cache only costs a resume
    h.update(b"-" if raw is None else hashlib.sha256(raw).digest())
    return h.hexdigest()


def rescan(repo: pygit2.Repository, matcher: Matcher, kind: str, oid: bytes) -> Hits | None:
    """The matches of a text the cache names (None: it cannot be read any more)."""
    try:
        _, data = read_raw(repo, oid)
        if kind == "blob":
            return scan_text(matcher, data)
        message = parse_commit(data)[1] if kind == "commit" else parse_tag(data)[1]
    except (pygit2.GitError, KeyError, ValueError, OSError, IndexError):
        return None
    return scan_text(matcher, message)


def dump(
    state: str,
    res: SourceResult,
    origins: Sequence[tuple[str, bytes]],
    t: Tables,
    ab: tuple[tuple[int, int, int], list[tuple[str, str]], dict[str, int]],
) -> CacheData:
    """What the cache keeps of a finished sweep (cache.py's typed records)."""
    founds = tuple(
        CachedFound(kind, oid, tuple(_cached(p) for p in found.places))
        for (kind, oid), found in zip(origins, res.founds, strict=True)
    )
    result = CachedResult(
        founds=founds,
        provenance=dict(res.provenance),  # keyed by secret id: a digest, never the secret
        head=res.head,
        commits=res.commits,
        objects=res.objects,
        blobs=res.blobs,
        nbytes=res.nbytes,
        files=res.files,
        sources=dict(res.sources),
        skips=tuple(res.skips),
        skip_counts=dict(res.skip_counts),
    )
    tags = {
        oid: (m.target, m.target_type, m.name, sig_tuple(m.tagger) if m.tagger else None)
        for oid, m in t.tags.items()
    }
    commits = {
        c: (m.tree, m.parents, *sig_tuple(m.author), *sig_tuple(m.committer)) for c, m in t.commits.items()
    }
    counts, skips, skip_counts = ab
    tables = SweepTables(
        commits=commits,
        tags=tags,
        blobs=tuple(t.known_blobs),
        trees=tuple(t.known_trees),
        unreadable=tuple(sorted(t.unreadable)),
        matched=tuple(sorted(t.matched)),
        commit_hits=tuple(sorted(t.commit_hits)),
        tag_hits=tuple(sorted(t.tag_hits)),
        closure=tuple(t.closure),
        unread_trees=tuple(sorted(t.unread_trees)),
        counts=counts,
        skips=tuple(skips),
        skip_counts=dict(skip_counts),
        packs=tuple(p.name for p in t.listing.packs),
    )
    return CacheData(state, result, tables)


def _cached(p: Place) -> CachedPlace:
    return CachedPlace(
        p.source,
        p.path,
        p.blob,
        p.commit,
        p.commit_time,
        p.local_only,
        p.bundle,
        p.origins,
        tuple(sorted(p.pragmas_added)),
        p.at_head,
    )


def _place(p: CachedPlace) -> Place:
    return Place(
        p.source,
        p.path,
        p.blob,
        p.commit,
        p.commit_time,
        p.local_only,
        p.bundle,
        p.origins,
        frozenset(p.pragmas_added),
        p.at_head,
    )


def reuse(repo: pygit2.Repository, matcher: Matcher, saved: CachedResult) -> SourceResult | None:
    """The cached result of an unchanged repository, its texts scanned again."""
    res = SourceResult()
    res.head, res.commits, res.objects, res.blobs = saved.head, saved.commits, saved.objects, saved.blobs
    res.nbytes, res.files, res.sources = saved.nbytes, saved.files, dict(saved.sources)
    res.skips = list(saved.skips)
    res.skip_counts = dict(saved.skip_counts)
    for found in saved.founds:
        hits = rescan(repo, matcher, found.kind, found.oid)
        if not hits:
            return None
        res.founds.append(Found(hits, [_place(p) for p in found.places]))
        for m, _ in hits:
            got = saved.provenance.get(secret_id(m))
            if got is not None:
                res.provenance[secret_id(m)] = got
    return res
