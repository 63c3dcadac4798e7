"""The fixed set of reasons a source leaves something unread, and how skips are summarized."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from scanner.model import Skip

MISSING = "missing-object"  # absent from the object database (partial clone, damaged repository)
CORRUPT = "corrupt-object"  # present but unreadable (bad zlib stream, bad delta, bad header)
TOO_LARGE = "too-large"  # a blob over the size cap (libgit2 inflates a blob whole)
SHALLOW = "shallow-boundary"  # a commit whose parents were not fetched
GITLINK = "gitlink"  # a submodule commit: another repository's history
LFS_POINTER = "lfs-pointer"  # a Git LFS pointer: the content lives outside git
UNREADABLE = "unreadable"  # a file or directory that could not be read
SYMLINK = "symlink"  # never followed
EXCLUDED = "excluded"  # .git/, node_modules/, virtualenvs
SPECIAL = "special-file"  # fifos, sockets, devices
ARCHIVE = "archive"  # an archive in build output (§4: skipped and counted, not unpacked)
UNMAPPED = (
    "source-map-unmapped"  # a bundle hit left without its origin: the map is too long to decode that far
)
PATH_ABSENT = (
    "path-not-in-history"  # PATH names a subtree no commit holds (a warning: nothing to sweep there)
)

# skipping any of these leaves a gap in coverage: the report says `incomplete`
INCOMPLETE_REASONS = frozenset({MISSING, CORRUPT, TOO_LARGE, SHALLOW, UNREADABLE})
MAX_EXAMPLES = 5


def examples_by_reason(skips: Iterable[Skip], limit: int = MAX_EXAMPLES) -> dict[str, tuple[str, ...]]:
    """Up to `limit` distinct examples for each reason, in the order met."""
    out: dict[str, tuple[str, ...]] = {}
    for s in skips:
        ex = out.get(s.reason, ())
        if len(ex) < limit and s.example not in ex:
            out[s.reason] = (*ex, s.example)
    return out


def is_incomplete(counts: Counter[str] | dict[str, int]) -> bool:
    return any(counts.get(r, 0) for r in INCOMPLETE_REASONS)
