"""What every source shares: the result type it returns, the places a matched text sits, and
scanning a text with its positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pygit2

from scanner import watchdog
from scanner.cache import HistoryCache
from scanner.detect.engine import Matcher
from scanner.detect.positions import LineIndex
from scanner.git.objects import CommitMeta, iso
from scanner.git.repo import bad_objects, read_header, read_raw
from scanner.model import CommitRef, Match, Original, Position, Provenance, Rule, Skip
from scanner.model import secret_id as secret_id  # the one identity of a secret, for every source
from scanner.skips import CORRUPT, MISSING, TOO_LARGE
from scanner.sources.pragmas import PragmaLines, pragma_lines

Hits = tuple[tuple[Match, Position], ...]
DEFAULT_BLOB_CAP = (
    1 << 30
)  # git blobs up to this are read whole and scanned; larger ones are skipped (too-large)


class Progress(Protocol):
    """Where long sweeps report how far they are (the CLI draws it; sources never write)."""

    def update(self, phase: str, done: int, total: int, nbytes: int) -> None: ...

    def close(self) -> None: ...


class NullProgress:
    def update(self, phase: str, done: int, total: int, nbytes: int) -> None:
        return None

    def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Place:
    """One location of a text: (source, path, blob) and the commit it is attributed to."""

    source: str  # a SourceKind value
    path: bytes
    blob: bytes | None = None
    commit: bytes | None = None
    commit_time: int | None = None
    local_only: bool = False
    bundle: bool = False  # client output: a secret here is shipped to browsers (sources/bundles.py)
    # the source-map origin of each of the Found's hits, in order (sources/maps.py); () for none
    origins: tuple[Original | None, ...] = ()
    # the indexes of the Found's hits whose `keysweep:allow` the scanned change adds (sources/pragmas.py)
    pragmas_added: frozenset[int] = frozenset()


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

    def counted(self, skipped: Skip | None, size: int) -> bool:
        """Count one file of a scan: its skip, or the file and its bytes. Whether it was read."""
        if skipped is not None:
            self.skip(skipped.reason, skipped.example)
            return False
        self.files += 1
        self.nbytes += size
        return True


def display(path: bytes) -> str:
    return path.decode("utf-8", "replace")


# ----------------------------------------------------------------------------------------------
# commit graph and the trees that lead to interesting objects


def commit_ref(oid: bytes, meta: CommitMeta, generation: int = 0) -> CommitRef:
    return CommitRef(
        commit=oid.hex(),
        author=meta.author.name,
        email=meta.author.email,
        author_time=iso(meta.author.time),
        commit_time=iso(meta.committer.time),
        generation=generation,
    )


def scan_text(matcher: Matcher, data: bytes) -> Hits:
    """Matches of one text with their positions (pragma-marked matches included)."""
    watchdog.scanning()  # the object last read: a stall from here on is the rules', not libgit2's
    found = matcher.scan(data)
    if not found:
        return ()
    index = LineIndex(data)
    return tuple((m, index.position(m.start, m.end)) for m in found)


# ----------------------------------------------------------------------------------------------
# phase A and B workers (each process opens the repository itself)


class BlobScanner:
    """Scans blobs on demand, each once, with skips counted on the result."""

    def __init__(self, repo: pygit2.Repository, matcher: Matcher, cap: int, res: SourceResult) -> None:
        self.repo = repo
        self.matcher = matcher
        self.cap = cap
        self.res = res
        self._cache: dict[bytes, Hits | None] = {}
        self._pragmas: dict[bytes, PragmaLines | None] = {}

    def hits(self, blob: bytes, where: str = "") -> Hits | None:
        """The blob's matches; None when it could not be read (counted)."""
        if blob in self._cache:
            return self._cache[blob]
        got: Hits | None
        label = f"blob {blob.hex()}" + (f" ({where})" if where else "")
        try:
            _, size = read_header(self.repo, blob)
        except KeyError:
            self.res.skip(MISSING, label)
            got = None
        except (pygit2.GitError, ValueError, OSError):
            self.res.skip(CORRUPT, label)
            got = None
        else:
            if size > self.cap:
                self.res.skip(TOO_LARGE, label)
                got = None
            else:
                try:
                    _, data = read_raw(self.repo, blob)
                except (pygit2.GitError, KeyError, ValueError, OSError):
                    self.res.skip(CORRUPT, label)
                    got = None
                else:
                    self.res.blobs += 1
                    self.res.nbytes += len(data)
                    got = scan_text(self.matcher, data)
        self._cache[blob] = got
        return got

    def keys(self, blob: bytes | None, pragma: bool = False) -> frozenset[str] | None:
        """Secrets the blob holds (with `pragma`, pragma-marked ones too); None when unreadable;
        empty for no blob."""
        if blob is None:
            return frozenset()
        h = self.hits(blob)
        if h is None:
            return None
        return frozenset(secret_id(m) for m, _ in h if pragma or not m.pragma)

    def text(self, blob: bytes) -> bytes | None:
        """The blob's bytes, read again (not counted: `hits` counted it); None when unreadable or
        over the cap."""
        try:
            _, size = read_header(self.repo, blob)
            if size > self.cap:
                return None
            return read_raw(self.repo, blob)[1]
        except (KeyError, pygit2.GitError, ValueError, OSError):
            return None

    def pragma_lines(self, blob: bytes | None) -> PragmaLines | None:
        """The lines of a parent's blob that carry a pragma (sources/pragmas.py); empty for no
        blob, None when it cannot be read."""
        if blob is None:
            return frozenset()
        if blob not in self._pragmas:
            data = self.text(blob)
            self._pragmas[blob] = None if data is None else pragma_lines(data)
        return self._pragmas[blob]


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """What a worker process needs to open the repository and scan as this process does."""

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


@dataclass(frozen=True, slots=True)
class ScanContext:
    """What every source scans with (the pipeline builds it from the ScanConfig)."""

    matcher: Matcher
    rules: tuple[Rule, ...]
    workers: int = 1
    size_cap: int = 32 * 1024 * 1024  # files on disk over this are scanned in overlapping chunks
    blob_cap: int = DEFAULT_BLOB_CAP
    progress: Progress = field(default_factory=lambda: NullProgress())
    cache: HistoryCache | None = None


class Source(Protocol):
    """One place texts come from; every mode is a list of sources (scanner/pipeline.py)."""

    def scan(self, ctx: ScanContext) -> SourceResult: ...
