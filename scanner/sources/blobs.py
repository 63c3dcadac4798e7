"""Reading a repository's blobs for a source: `BlobScanner` (each blob read and scanned once, its
skips counted) and `pool_spec` (what a worker process needs to open the repository its parent
opened). The git side of sources/base.py, apart so that a directory scan never loads libgit2.
"""

from __future__ import annotations

from collections.abc import Sequence

import pygit2

from scanner.detect.engine import Matcher
from scanner.git.repo import bad_objects, read_header, read_raw
from scanner.model import Rule
from scanner.skips import CORRUPT, MISSING, TOO_LARGE
from scanner.sources.base import Hits, PoolSpec, SourceResult, scan_text, secret_id
from scanner.sources.pragmas import PragmaLines, pragma_lines


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


def pool_spec(
    repo: pygit2.Repository, rules: Sequence[Rule], matcher: Matcher, cap: int, workers: int
) -> PoolSpec:
    pre = matcher.prefilter
    serialized = pre.serialize() if hasattr(pre, "serialize") else None
    return PoolSpec(repo.path, tuple(rules), matcher.engine, serialized, cap, workers, bad_objects(repo))
