"""The full sweep's side of the history cache (scanner/cache.py): what a repository's state is,
what is written (never a secret: secrets are keyed by digest, matched texts are read again), and
how an unchanged repository's result is rebuilt.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from typing import Any

import pygit2

from scanner.detect.engine import Matcher
from scanner.git.objects import Signature, parse_commit, parse_tag
from scanner.git.packs import loose_ids
from scanner.git.refs import head_commit, list_refs
from scanner.git.repo import bad_objects, index_bytes, objects_dirs, read_raw
from scanner.sources.base import Found, Hits, SourceResult, scan_text, secret_id
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
) -> dict[str, Any]:
    prov = dict(res.provenance)  # keyed by secret id: a digest, never the secret
    founds = [(kind, oid, found.places) for (kind, oid), found in zip(origins, res.founds, strict=True)]
    counters = (res.head, res.commits, res.objects, res.blobs, res.nbytes, res.files, res.sources)
    tags = {
        t: (m.target, m.target_type, m.name, sig_tuple(m.tagger) if m.tagger else None)
        for t, m in t.tags.items()
    }
    commits = {
        c: (m.tree, m.parents, *sig_tuple(m.author), *sig_tuple(m.committer)) for c, m in t.commits.items()
    }
    return {
        "state": state,
        "result": (founds, prov, counters, list(res.skips), dict(res.skip_counts)),
        "inter": {
            "commits": commits,
            "tags": tags,
            "blobs": b"".join(t.known_blobs),
            "trees": b"".join(t.known_trees),
            "unreadable": sorted(t.unreadable),
            "matched": sorted(t.matched),
            "commit_hits": sorted(t.commit_hits),
            "tag_hits": sorted(t.tag_hits),
            "closure": b"".join(t.closure),
            "unread_trees": sorted(t.unread_trees),
            "ab": ab,
            "packs": [p.name for p in t.listing.packs],
        },
    }


def reuse(repo: pygit2.Repository, matcher: Matcher, saved: dict[str, Any]) -> SourceResult | None:
    """The cached result of an unchanged repository, its texts scanned again."""
    founds, prov, counters, skips, skip_counts = saved["result"]
    res = SourceResult()
    res.head, res.commits, res.objects, res.blobs, res.nbytes, res.files, res.sources = counters
    res.skips = list(skips)
    res.skip_counts = dict(skip_counts)
    for kind, oid, places in founds:
        hits = rescan(repo, matcher, kind, oid)
        if not hits:
            return None
        res.founds.append(Found(hits, places))
        for m, _ in hits:
            got = prov.get(secret_id(m))
            if got is not None:
                res.provenance[secret_id(m)] = got
    return res
