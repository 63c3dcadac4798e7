"""What every source shares: the result type it returns, the places a matched text sits, and
scanning a text with its positions. Nothing here reads git (sources/blobs.py does): a plain
directory scan never loads libgit2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from scanner import watchdog
from scanner.detect.engine import Matcher
from scanner.detect.positions import LineIndex
from scanner.git.objects import CommitMeta, iso
from scanner.model import CommitRef, Match, Original, Position, Provenance, Rule, Skip, Verification
from scanner.model import secret_id as secret_id  # the one identity of a secret, for every source

if TYPE_CHECKING:  # the history package loads libgit2: a directory scan never imports it
    from scanner.sources.history.cache import HistoryCache

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
    # a history place whose blob HEAD's tree holds at this path (the suppress stage reads no git)
    at_head: bool = False


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
    # live verification's answers by secret digest (scanner/enrich/verification.py; `--verify`)
    verifications: dict[str, Verification] = field(default_factory=dict)

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


class Pending(Protocol):
    """A source's scan under way (`StartingSource.start`)."""

    def result(self) -> SourceResult: ...

    def close(self) -> None: ...


@runtime_checkable
class StartingSource(Protocol):
    """A source whose scan can be started and finished later: it keeps worker processes busy,
    and the pipeline scans the sources after it meanwhile (the full sweep)."""

    def start(self, ctx: ScanContext) -> Pending: ...

    def scan(self, ctx: ScanContext) -> SourceResult: ...
